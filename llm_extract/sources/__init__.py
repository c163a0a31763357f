"""Reading reports: text files, folders, globs and stdin."""
