"""Instructor solutions for Assignment 1, one module per problem."""
