"""The local AWS emulator: where a target points (`target`), how it differs from AWS (`deviations`),
the moto process we run (`process`) and the server inside it (`server`)."""
