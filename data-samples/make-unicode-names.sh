#!/bin/sh
# Regenerate unicode-names.tsv (key = code point, uppercase hex without prefix;
# value = character name) from the Unicode Character Database's UnicodeData.txt
# as installed by the Debian package "unicode-data".
#
# Usage: sh make-unicode-names.sh [UnicodeData.txt] [output.tsv]
# Defaults: /usr/share/unicode/UnicodeData.txt -> unicode-names.tsv beside this script.
#
# Rules: lines whose name is a range marker ("<..., First>" / "<..., Last>")
# are skipped (ranges are not expanded); for "<control>" entries the
# Unicode 1.0 name (field 11, index 10) is used if present, else the entry is
# skipped. Output order is the input order (ascending code point).
set -eu
in=${1:-/usr/share/unicode/UnicodeData.txt}
out=${2:-$(dirname "$0")/unicode-names.tsv}
LC_ALL=C awk -F';' '
  {
    code = $1; name = $2
    if (name ~ /^<.*, (First|Last)>$/) next
    if (name == "<control>") { if ($11 == "") next; name = $11 }
    if (name ~ /^</) next
    if (code in seen) { print "duplicate key " code > "/dev/stderr"; exit 1 }
    seen[code] = 1
    printf "%s\t%s\n", toupper(code), name
  }' "$in" > "$out.tmp"
mv "$out.tmp" "$out"
