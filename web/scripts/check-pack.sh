#!/usr/bin/env bash
# `npm pack` of @reelforge/client gives a package a frontend can install: it installs into
# an empty project, and the README's ten-line component type-checks against its types.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
npm pack -w @reelforge/client --pack-destination "$work" --silent >/dev/null
cd "$work"
cat > package.json <<'JSON'
{ "name": "consumer", "private": true, "type": "module" }
JSON
npm install --silent --no-audit --no-fund --prefer-offline ./reelforge-client-*.tgz react@19 @types/react@19 typescript@5.9 >/dev/null
# The README's component, verbatim.
awk '/^```tsx$/{f=1; next} /^```$/{if(f){exit}} f' node_modules/@reelforge/client/README.md > AdMaker.tsx
lines=$(grep -c . AdMaker.tsx)
[ "$lines" -le 10 ] || { echo "the README's component has $lines lines (more than ten)" >&2; exit 1; }
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "strict": true, "jsx": "react-jsx", "module": "NodeNext", "moduleResolution": "NodeNext",
  "target": "ES2022", "lib": ["ES2022", "DOM"], "noEmit": true, "skipLibCheck": false }, "files": ["AdMaker.tsx"] }
JSON
npx --no-install tsc -p .
node --input-type=module -e "import('@reelforge/client').then(m => { if (typeof m.ReelforgeClient !== 'function') process.exit(1); console.log('@reelforge/client: installed, typed, importable'); })"
