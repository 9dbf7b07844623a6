#!/usr/bin/env bash
# Print the path of a working CPython 3.10 for the Rasa engine environment, or explain
# what to install. Looks at ENGINE_BASE_PYTHON, then python3.10 on PATH, then pyenv.
set -u
works() { "$1" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; }
for candidate in "${ENGINE_BASE_PYTHON:-}" "$(command -v python3.10 2>/dev/null)"; do
  if [ -n "$candidate" ] && works "$candidate"; then echo "$candidate"; exit 0; fi
done
root="${PYENV_ROOT:-$HOME/.pyenv}"
if command -v pyenv >/dev/null 2>&1; then root="$(pyenv root)"; fi
for candidate in $(ls -d "$root"/versions/3.10*/bin/python3.10 2>/dev/null | sort -rV); do
  if works "$candidate"; then echo "$candidate"; exit 0; fi
done
cat >&2 <<'MSG'
Sahay's Rasa engine needs CPython 3.10 (Rasa 3.6 runs on nothing newer), and none was found.
Install one, for example:   pyenv install 3.10   (or: apt-get install python3.10 python3.10-venv)
or point ENGINE_BASE_PYTHON at a python3.10 binary, then run make again.
MSG
exit 1
