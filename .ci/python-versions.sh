#!/usr/bin/env bash
# Runs the test suite on each supported CPython (3.11, 3.12, 3.13) that this machine has:
# pyenv's builds ($PYENV_ROOT/versions/3.X.*) or python3.X on the PATH (Debian 12's packages
# carry only 3.11). Each version gets its own venv under $IGNITE_ROUTER_VENVS (default
# /tmp/ignite-router-venvs), installed as the README's test command does. Arguments go to
# pytest (default: the whole suite). IGNITE_ROUTER_PYTHONS picks the versions (default: all three). A version that is not found is reported and skipped;
# the exit code is non-zero if a run failed. The live-JDK property tests need javac/java on
# the PATH (.ci/run installs a JDK).
set -uo pipefail
cd "$(dirname "$0")/.."

venvs="${IGNITE_ROUTER_VENVS:-/tmp/ignite-router-venvs}"
failed=()
for version in ${IGNITE_ROUTER_PYTHONS:-3.11 3.12 3.13}; do
    python=""
    for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/python"$version" \
        "$(command -v "python$version" || true)"; do
        if [ -x "$candidate" ]; then
            python="$candidate"
            break
        fi
    done
    if [ -z "$python" ]; then
        echo "== Python $version: not found on this machine, skipped"
        continue
    fi
    echo "== Python $version: $python"
    venv="$venvs/py$version"
    if ! { [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"; } ||
        ! "$venv/bin/pip" install -q -e ".[test]" --config-settings editable_mode=strict ||
        ! "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"; then
        failed+=("$version")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "== failed on Python ${failed[*]}"
    exit 1
fi
