"""Services hold the work: uploads, downloads, archives, copies, search and paths."""
