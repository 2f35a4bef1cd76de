#!/usr/bin/env bash
# Demo: differentiate the bundled Lorenz-96 sample (reverse mode), list the generated files, then
# build and verify the derivatives with `fortran-ad check` (prints the check table).
# Head routine, --wrt and --of come from the sample's sample.toml (its first [[case]]).
set -euo pipefail

# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$REPO_ROOT"

sample_dir="legacy_samples/lorenz96"
out="out/lorenz96"

# sources (in order), head, wrt, of from sample.toml, one per line
mapfile -t cfg < <(
  python - "$sample_dir/sample.toml" <<'PY'
import sys
import tomllib
from pathlib import Path

path = Path(sys.argv[1])
sample = tomllib.loads(path.read_text())
case = sample["case"][0]
print(" ".join(str(path.parent / s) for s in sample["sources"]))
print(case["head"])
print(",".join(case["wrt"]))
print(",".join(case["of"]))
PY
)
read -r -a sources <<<"${cfg[0]}"
head="${cfg[1]}" wrt="${cfg[2]}" of="${cfg[3]}"

echo "== fortran-ad ${sources[*]} --head $head --wrt $wrt --of $of -o $out"
rm -rf "$out"
fortran-ad "${sources[@]}" --head "$head" --wrt "$wrt" --of "$of" -o "$out"

echo
echo "== generated files in $out"
ls -l "$out"

echo
echo "== fortran-ad check ${sources[*]} --head $head --wrt $wrt --of $of --sample $sample_dir/sample.toml"
fortran-ad check "${sources[@]}" --head "$head" --wrt "$wrt" --of "$of" \
  --sample "$sample_dir/sample.toml"
