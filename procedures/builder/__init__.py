"""The no-code builder: designers edit, preview, try and publish procedures in the console."""
