# Sourced by test scripts that need PyPI packages: ensure_venv VENV PYTHON REQUIREMENTS makes the
# virtualenv once and remakes it when the requirements file or the interpreter changes. It reports
# through the caller's `say`.
ensure_venv() {
    local venv="$1" python="$2" requirements="$3" stamp
    stamp="$(cat "$requirements" <("$python" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-16)"
    if [[ ! -x "$venv/bin/python" || "$(cat "$venv/.pharos-stamp" 2>/dev/null)" != "$stamp" ]]; then
        say "creating virtualenv $venv"
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
            -r "$requirements"
        echo "$stamp" >"$venv/.pharos-stamp"
    fi
}
