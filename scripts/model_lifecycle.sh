#!/usr/bin/env bash
# The model lifecycle on generated data, end to end (make model-demo). Nights B+1..B+3
# of a generated landing whose baseline drop is B:
#   B+1 on the rules alone (no model yet) -> the model trained on B+1 becomes champion
#   (there is none to beat) -> B+2 scored with it -> a challenger of 1 tree (same
#   examples, same holdout) is promoted only if it beats the champion ->
#   B+3 scored with the champion and evaluated (rules alone / model alone / combined)
#   -> an auditor re-runs B+2 (its pinned model again) and B+1 (still no model, though a
#   champion exists now): byte-identical cases.csv both times -> the full model trained
#   again is refused unless it beats the champion (whichever won above, one of the two
#   challengers is refused).
set -euo pipefail
DIR=${1:?usage: model_lifecycle.sh DIR [PERSONS] [SEED]}
PERSONS=${2:-20000}
SEED=${3:-123}
BIN=${BIN:-.venv/bin}
FRAUDCTL="$BIN/fraudctl --log-level WARNING"
rm -rf "$DIR" && mkdir -p "$DIR"
landing=$DIR/landing warehouse=$DIR/warehouse

step() { printf '\n== %s\n' "$*"; }
sha() { sha256sum "$1" | cut -c1-16; }
field() { "$BIN/python" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
night() { $FRAUDCTL run --landing "$landing" --warehouse "$warehouse" --ds "$1" --no-progress > "$DIR/run-$1.log"
          echo "night $1: model_version $(field "$warehouse/outputs/$1/run_manifest.json" model_version)," \
               "cases.csv sha256 $(sha "$warehouse/outputs/$1/cases.csv")..."; }

step "generate $PERSONS persons (seed $SEED), a baseline drop and three daily drops"
$FRAUDCTL synth --out "$landing" --persons "$PERSONS" --seed "$SEED" --days 3 --no-progress
mapfile -t days < <("$BIN/python" -c "import json,sys; print('\n'.join(json.load(open(sys.argv[1]))['drop_dates']))" \
                    "$landing/_truth/truth.json")
first=${days[1]} second=${days[2]} third=${days[3]}

step "night $first: no model registered, the rules alone"
night "$first"
rules_only=$(sha "$warehouse/outputs/$first/cases.csv")

step "train on $first (200 trees): champion, there is none to beat"
$FRAUDCTL train --warehouse "$warehouse" --ds "$first"

step "night $second: scored with the champion"
night "$second"
pinned=$(sha "$warehouse/outputs/$second/cases.csv")

step "a 1-tree challenger on $first, the same examples and holdout: promoted only if better"
$FRAUDCTL train --warehouse "$warehouse" --ds "$first" --rounds 1

step "night $third: scored with the champion"
night "$third"

step "an auditor re-runs night $second (the champion may have changed since)"
night "$second"
[ "$pinned" = "$(sha "$warehouse/outputs/$second/cases.csv")" ] && echo "re-run of $second identical: yes" \
  || { echo "re-run of $second identical: NO" >&2; exit 1; }

step "an auditor re-runs night $first, which ran before any model existed: the rules alone again"
night "$first"
[ "$rules_only" = "$(sha "$warehouse/outputs/$first/cases.csv")" ] && echo "re-run of $first identical: yes" \
  || { echo "re-run of $first identical: NO" >&2; exit 1; }

step "the full model once more (the same bytes as version 1): refused unless it beats the champion"
$FRAUDCTL train --warehouse "$warehouse" --ds "$first"

step "night $third against the generator's truth"
$FRAUDCTL evaluate --truth "$landing" --outputs "$warehouse/outputs/$third" --json "$DIR/evaluation.json"
