"""Content: topic texts and system messages, composed answers, the resource directory,
locations, gettext catalogs and readability grading."""
