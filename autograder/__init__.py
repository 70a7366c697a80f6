"""Autograder for Intermediate Machine Learning, Assignment 1."""

__version__ = "0.1.0"
