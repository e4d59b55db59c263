"""The fitted artefact: a JSON value that preprocesses, projects and assigns new customers."""
