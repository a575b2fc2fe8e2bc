"""The cluster side: installs in dependency order, what a live cluster runs, the objects eksml
applies, the diff against them, and where each UI is reached."""
