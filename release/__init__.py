"""Release tooling of the taskgate monorepo: building and checking the wheels, the contract's compatibility
gate, and the dry run of a package's release. The nox sessions `wheels`, `compat` and `release` call it."""
