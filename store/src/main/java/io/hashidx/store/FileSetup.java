package io.hashidx.store;

import java.nio.file.Path;

/** Lays out a new file, and checks an existing file's header against its size before any cell is read. */
final class FileSetup {
    private FileSetup() {
    }

    /**
     * Writes the initial layout: the journal cell, the first bucket array (sized for the expected
     * entries, or one bucket) and, when presized, the overflow pages the expected entries will need,
     * set aside as one free run. All of it is written as real zeros.
     */
    static Header newFile(Path path, MappedFile file, Options options, long seed) {
        Header h = newHeader(path, options.keyWidth(), options.valueWidth(), options.chunkSize(), seed);
        if (options.variable()) {
            markVariable(h);
        }
        file.setChunkSize(h.chunkSize);
        long buckets = options.expectedEntries() > 0 ? Table.bucketsFor(options.expectedEntries()) : 1;
        long reserve = options.expectedEntries() > 0 ? Table.overflowReserveFor(buckets) : 0;
        h.bucketCount = buckets;
        h.allocatedCells = 1 + buckets + reserve;
        BucketLayout layout = new BucketLayout(h.keyWidth, h.valueWidth, file);
        long end = layout.endOfCells(h.allocatedCells);
        try {
            file.extendTo(end, "for a new file");
        } catch (HashIndexException.Storage e) {
            if (e.code() == HashIndexException.Code.DISK_FULL) {
                throw HashIndexException.diskFullCreating(path, end, e.getCause());
            }
            throw e;
        }
        file.ensureMapped(end);
        if (reserve > 0) {
            layout.setFreeRun(1 + buckets, BucketLayout.NONE, reserve);
            h.freeRoot = 1 + buckets;
            h.freeCells = reserve;
        }
        Header.setLiveCount(file.header(), 0);
        h.store(file.header());
        return h;
    }

    /**
     * The header of a new file with these widths, before any cell: seed, chunk size, stride, the
     * journal at cell 0 and the bucket array from cell 1. The caller sets the bucket count and space.
     */
    static Header newHeader(Path path, int keyWidth, int valueWidth, long chunkSize, long seed) {
        int stride = BucketLayout.strideFor(keyWidth, valueWidth);
        if (chunkSize < stride || chunkSize % 4096 != 0) {
            throw HashIndexException.invalidArgument(path, "chunk size " + chunkSize
                    + " must be a multiple of 4096 and hold at least one " + stride + "-byte bucket");
        }
        Header h = new Header();
        h.keyWidth = keyWidth;
        h.valueWidth = valueWidth;
        h.seed = seed;
        h.chunkSize = chunkSize;
        h.stride = stride;
        h.journalCell = 0;
        h.bucketsCell = 1;
        return h;
    }

    static Header existingFile(Path path, MappedFile file, boolean write) {
        Header h = Header.load(file.header(), path, write);
        file.setChunkSize(h.chunkSize);
        // A cell count this large would overflow the byte count (no file holds that many cells anyway).
        if (h.allocatedCells > Long.MAX_VALUE / 4 / h.stride) {
            throw HashIndexException.corrupt(path, file.size(), "the file is " + file.size()
                    + " bytes but its header describes " + h.allocatedCells + " cells of " + h.stride + " bytes");
        }
        long need = new BucketLayout(h.keyWidth, h.valueWidth, file).endOfCells(h.allocatedCells);
        if (file.size() < need) {
            throw HashIndexException.corrupt(path, file.size(), "truncated: the file is " + file.size()
                    + " bytes but its header describes " + need + " bytes");
        }
        return h;
    }

    /** Makes a new header a variable-length file's: the flag, and format version 3. */
    static void markVariable(Header h) {
        h.flags = Header.FLAG_VARIABLE;
        h.readVersion = Header.VARIABLE_FORMAT_VERSION;
        h.writeVersion = Header.VARIABLE_FORMAT_VERSION;
    }
}
