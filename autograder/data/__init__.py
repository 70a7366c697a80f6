"""Data files of the assignment: generating look-alikes, downloading the real ones, verifying both."""
