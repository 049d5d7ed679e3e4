#!/bin/sh
# Generate the configure script and Makefile.in from configure.ac and
# Makefile.am.  Needs autoconf, automake and pkg-config.
set -e
cd "$(dirname "$0")"
autoreconf --install --force
