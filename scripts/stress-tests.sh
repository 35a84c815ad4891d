#!/usr/bin/env bash
# The flakiness check: run the whole vitest suite several times in shuffled order while busy
# loops keep every core loaded, and report each run's outcome. A test that passes only on an idle
# machine or in one order fails here.
#   npm run test:stress            # 5 runs
#   npm run test:stress -- 10      # 10 runs
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
burners=()
for _ in $(seq 1 "$(nproc)"); do
  node -e 'for (;;) {}' &
  burners+=($!)
done
trap 'kill "${burners[@]}" 2>/dev/null' EXIT
failed=0
for i in $(seq 1 "$runs"); do
  seed=$((RANDOM * 32768 + RANDOM))
  log=$(mktemp -t crmlink-stress.XXXXXX)
  if npx vitest run --sequence.shuffle --sequence.seed="$seed" >"$log" 2>&1; then
    echo "run $i (seed $seed): passed — $(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ +Tests ' | tr -s ' ')"
  else
    failed=$((failed + 1))
    echo "run $i (seed $seed): FAILED — log in $log"
    grep -E '(FAIL|✗|×) ' "$log" | head -20
  fi
done
echo "$((runs - failed)) of $runs shuffled runs under load passed"
[ "$failed" -eq 0 ]
