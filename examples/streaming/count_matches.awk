# Log filter: counts the lines of this mapper's input file that match the
# extended regular expression `pattern` (awk -v pattern=...), and prints
# "file<TAB>count" once, at the end, if any matched. With
# examples/streaming/wc_reduce.py summing the counts per file, the output
# is `sluice run grep`'s for the same pattern.
$0 ~ pattern { n++ }
END { if (n > 0) printf "%s\t%d\n", ENVIRON["SLUICE_INPUT_FILE"], n }
