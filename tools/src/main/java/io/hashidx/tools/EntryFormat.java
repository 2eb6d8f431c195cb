package io.hashidx.tools;

/** The text formats {@code dump} writes and {@code load} reads. */
enum EntryFormat {
    tsv, csv, jsonl
}
