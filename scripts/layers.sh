#!/usr/bin/env bash
# layers.sh — fails on an upward include between jobd's layers
# (docs/architecture.md):
#   core    pure logic            includes core only (and jobd.h)
#   store   the store backends    core, store
#   engine  jobs, runs, queue     core, store, engine
#   client  the libuv client      core, client
#   faces   socket, wire, ...     core, store, engine, client, faces
#   cmd     jobd, jobctl          anything
# and the seam: faces and cmd reach the engine through its verbs
# (engine/engine_api.h), never its internal header engine/engine.h (the
# struct engine's fields).
# Prints each offending line; exit 1 if there is one.
set -u
cd "$(dirname "$0")/../src"
allowed() {   # allowed LAYER: the layers LAYER may include
	case $1 in
	core) echo "core" ;;
	store) echo "core store" ;;
	engine) echo "core store engine" ;;
	client) echo "core client" ;;
	faces) echo "core store engine client faces" ;;
	*) echo "core store engine client faces cmd" ;;
	esac
}
bad=0
while IFS= read -r f; do
	layer=${f%%/*}
	ok=" $(allowed "$layer") "
	while IFS= read -r inc; do
		# resolve "../x.h" against the including file's folder
		path=$(realpath -m --relative-to=. "$(dirname "$f")/$inc")
		[ -e "$path" ] || path=$inc          # "layer/x.h" from src/
		[ "$path" = jobd.h ] && continue
		to=${path%%/*}
		case $layer in faces|cmd)
			if [ "$path" = engine/engine.h ]; then
				echo "$f: includes \"$inc\" ($layer uses engine/engine_api.h: the engine's verbs, not its fields)"
				bad=1
			fi ;;
		esac
		case $ok in *" $to "*) ;; *)
			echo "$f: includes \"$inc\" ($layer may not include $to)"
			bad=1 ;;
		esac
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done < <(find core store engine client faces cmd -name '*.[ch]' 2>/dev/null | sort)
[ $bad -eq 0 ] && echo "layers: no upward include, no face inside the engine"
exit $bad
