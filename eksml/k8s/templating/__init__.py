"""Every release's chart through the real Helm (`helm template`), with the charts' own objects back."""
