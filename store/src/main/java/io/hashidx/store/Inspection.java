package io.hashidx.store;

/**
 * What {@link HashIndex#inspect()} found in a file: format, geometry, growth progress, occupancy,
 * chains and space. All counts are exact (the whole file is scanned).
 *
 * @param occupancy        {@code occupancy[k]} = buckets whose primary page holds k entries, k = 0..8
 * @param chainLengths     {@code chainLengths[k]} = buckets with k overflow pages chained on
 * @param tophashCounts    entries per tophash value (index 0..255; values below 5 are reserved marks)
 * @param tophashChiSquare chi-square of {@code tophashCounts} against the hash's expected
 *                         distribution (uniform low byte; values 5..9 doubled by the move above the marks); 250 degrees of freedom
 * @param growthSlackBytes how much bigger the file is than a file presized for the same entries
 * @param variableLengths  whether keys and values have any length (the widths are then inline widths)
 * @param recordPages      cells holding the records of out-of-line entries (0 in a fixed-width file)
 * @param recordBytes      key and value bytes those records hold
 * @param recordFreeBytes  bytes of record cells that hold no record data: the unused end of each
 *                         record's last cell (freed record cells are free pages, reused by any record
 *                         or overflow page)
 */
public record Inspection(
        String path,
        long fileBytes,
        int readVersion,
        int writeVersion,
        int keyWidth,
        int valueWidth,
        long seed,
        HeaderCopy copyA,
        HeaderCopy copyB,
        long entries,
        long buckets,
        long doublings,
        long sameSizeGrowths,
        Growth growth,
        double loadFactor,
        long overflowPages,
        long freePages,
        long retiredPages,
        long allocatedPages,
        int pageBytes,
        long rawKeyValueBytes,
        long[] occupancy,
        long[] chainLengths,
        long[] tophashCounts,
        double tophashChiSquare,
        long growthSlackBytes,
        boolean variableLengths,
        long recordPages,
        long recordBytes,
        long recordFreeBytes) {

    /** One of the two header copies. */
    public record HeaderCopy(long generation, boolean valid) {
    }

    /**
     * Growth progress; {@code oldBuckets == 0} when no growth is under way.
     *
     * @param evacuatedMark old buckets below this index are all evacuated (the header's progress field)
     * @param evacuated     old buckets evacuated in all (some above the mark, touched by writes)
     */
    public record Growth(boolean growing, boolean sameSize, long oldBuckets, long evacuatedMark, long evacuated,
                         long oldOverflowPages) {
        public double percent() {
            return oldBuckets == 0 ? 100.0 : 100.0 * evacuated / oldBuckets;
        }
    }

    public double bytesPerEntry() {
        return entries == 0 ? 0 : (double) fileBytes / entries;
    }

    /** File bytes per byte of stored keys and values (1.0 would be no overhead at all). */
    public double overheadRatio() {
        return rawKeyValueBytes == 0 ? 0 : (double) fileBytes / rawKeyValueBytes;
    }

    public double overflowPercent() {
        return buckets == 0 ? 0 : 100.0 * overflowPages / buckets;
    }

    /** Share of record cell bytes that hold no record data, in percent (0 without records). */
    public double recordFragmentationPercent() {
        long total = recordBytes + recordFreeBytes;
        return total == 0 ? 0 : 100.0 * recordFreeBytes / total;
    }

    /** True when rewriting the file presized would give back at least a quarter of it. */
    public boolean compactWouldPayOff() {
        return fileBytes > 0 && growthSlackBytes * 4 >= fileBytes;
    }
}
