#!/usr/bin/env bash
# The ROPG/RSPG loop on the shipped LaMP-3 sample with the embedded SmolLM2 reader, on CPU in a few minutes:
# item scores → ROPG-KD and ROPG-RL retrievers → a ranking_ropg_kd column in a rebuilt config → retriever scores
# → RSPG selection → official predictions and lamp_eval scores (out/ropg-demo/rspg/results.json).
#     bash recipes/ropg_demo.sh          (from the repository root; OUT=... and PYTHON=... override)
set -euo pipefail
OUT=${OUT:-out/ropg-demo}
PYTHON=${PYTHON:-.venv/bin/python}
LAMPKIT=${LAMPKIT:-.venv/bin/lampkit}
rm -rf "$OUT"

$LAMPKIT build lamp --config LaMP_3_user --data-dir samples/lamp --rankers bm25,recency --out "$OUT/lamp"
$PYTHON recipes/score_profile_items.py --config recipes/score_profile_items_demo.yaml \
  --dataset_name "$OUT/lamp" --output_dir "$OUT/items"
for objective in kd rl; do
  $PYTHON recipes/train_ropg.py --config recipes/train_ropg_demo.yaml --feedback "$OUT/items" \
    --dataset_name "$OUT/lamp" --objective $objective --output_dir "$OUT/ropg-$objective"
done
$LAMPKIT build lamp --config LaMP_3_user --data-dir samples/lamp --rankers bm25,recency,dense \
  --dense-model "$OUT/ropg-kd" --out "$OUT/lamp-ropg"
for split in train validation; do
  $PYTHON recipes/score_retrievers.py --config recipes/score_retrievers_demo.yaml --dataset_name "$OUT/lamp-ropg" \
    --split $split --pool none bm25 ropg_kd "$OUT/ropg-rl" --output_dir "$OUT/scores-$split"
done
$PYTHON recipes/train_rspg.py --config recipes/train_rspg_demo.yaml \
  --train_scores "$OUT/scores-train" --eval_scores "$OUT/scores-validation" --output_dir "$OUT/rspg"
cat "$OUT/rspg/results.json"
