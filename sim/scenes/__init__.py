"""Home descriptions (YAML) shipped with the simulation; a package so the data installs with it."""
