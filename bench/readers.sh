# Sourced by the bench scripts: the identities of the mixed concurrent readers, as
# "name|nation|clearance" entries in `reader_identities`. Every nation is in the corpus's
# "Releasable To" set and every clearance covers its labels, so each reader is served objects (a
# reader who may see nothing would scan the whole collection per page).
reader_identities=()
for nation in FRA GBR USA JPN; do
  for level in "NATO SECRET" "COSMIC TOP SECRET"; do
    for caveats in "" "//ATOMAL" "//CRYPTO" "//ATOMAL, CRYPTO"; do
      name="reader-$nation-$(echo "$level$caveats" | tr -c 'A-Za-z0-9\n' '-' | tr -s '-' | tr 'A-Z' 'a-z')"
      reader_identities+=("$name|$nation|$level$caveats")
    done
  done
done
