"""The checked platform written out for people and for Argo CD: the render folder, its index, the
values-only plan and the gitops folder."""
