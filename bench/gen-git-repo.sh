#!/usr/bin/env bash
# Generates a git repository for the git benchmark and the large-repository test: many commits,
# a few thousand files, ~50 MB packed. Content is random base64 text (incompressible beyond
# base64's own redundancy), so the pack size is what the numbers say, not what zlib makes of
# repeated text.
#
#   bench/gen-git-repo.sh DIR [COMMITS] [FILES] [ASSET_EVERY]
#
# DIR is created as a bare repository with one branch, main. Defaults: 3000 commits, 2000 files,
# a ~130 KB "asset" file added every 10th commit (that is where most of the bytes are); every other
# commit rewrites 4 source files. Needs git, awk, base64, head.
set -euo pipefail
dir=${1:?usage: gen-git-repo.sh DIR [COMMITS] [FILES] [ASSET_EVERY]}
commits=${2:-3000}
files=${3:-2000}
asset_every=${4:-10}
[ -e "$dir" ] && { echo "gen-git-repo: $dir exists" >&2; exit 1; }
git init -q --bare -b main "$dir"
# Random bytes needed, with margin: lines of 57 random bytes (76 base64 characters).
lines=$(( files * 20 + commits * 4 * 20 + (commits / asset_every + 1) * 1700 + 1000 ))
bytes=$(( lines * 57 ))
head -c "$bytes" /dev/urandom | base64 -w 76 \
  | awk -v commits="$commits" -v files="$files" -v every="$asset_every" '
    function text(n,   s, i, l) {
      s = ""
      for (i = 0; i < n; i++) {
        if ((getline l) <= 0) { print "gen-git-repo: out of random input" > "/dev/stderr"; exit 1 }
        s = s l "\n"
      }
      return s
    }
    function file(i) { return sprintf("src/mod%02d/file%04d.txt", i % 40, i) }
    function put(path, content) {
      printf "M 100644 inline %s\ndata %d\n%s\n", path, length(content), content
    }
    function commit(n, msg) {
      printf "commit refs/heads/main\nmark :%d\n", n
      printf "author Bench <bench@example.com> %d +0000\n", 1700000000 + n * 60
      printf "committer Bench <bench@example.com> %d +0000\n", 1700000000 + n * 60
      printf "data %d\n%s\n", length(msg), msg
    }
    BEGIN {
      srand(1)
      commit(1, "initial import")
      for (i = 0; i < files; i++) put(file(i), text(20))
      for (c = 2; c <= commits; c++) {
        commit(c, "change " c)
        if (c % every == 0) put(sprintf("assets/asset%05d.dat", c), text(1700))
        for (k = 0; k < 4; k++) put(file(int(rand() * files)), text(20))
      }
      while ((getline l) > 0) {}  # drain the margin, so base64 does not die of SIGPIPE
    }' \
  | git --git-dir="$dir" fast-import --quiet
git --git-dir="$dir" repack -adq
git --git-dir="$dir" gc --quiet --prune=now
echo "generated $dir: $(git --git-dir="$dir" rev-list --count main) commits," \
  "$(git --git-dir="$dir" ls-tree -r main | wc -l) files," \
  "$(du -sm "$dir/objects/pack" | cut -f1) MB packed" >&2
