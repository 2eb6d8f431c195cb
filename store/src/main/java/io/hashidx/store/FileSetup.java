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
        int stride = BucketLayout.strideFor(options.keyWidth(), options.valueWidth());
        long chunkSize = options.chunkSize();
        if (chunkSize < stride || chunkSize % 4096 != 0) {
            throw HashIndexException.invalidArgument(path, "chunk size " + chunkSize
                    + " must be a multiple of 4096 and hold at least one " + stride + "-byte bucket");
        }
        file.setChunkSize(chunkSize);
        Header h = new Header();
        h.keyWidth = options.keyWidth();
        h.valueWidth = options.valueWidth();
        h.seed = seed;
        h.chunkSize = chunkSize;
        h.stride = stride;
        long buckets = options.expectedEntries() > 0 ? Table.bucketsFor(options.expectedEntries()) : 1;
        long reserve = options.expectedEntries() > 0 ? Table.overflowReserveFor(buckets) : 0;
        h.journalCell = 0;
        h.bucketsCell = 1;
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

    static Header existingFile(Path path, MappedFile file, boolean write) {
        Header h = Header.load(file.header(), path, write);
        file.setChunkSize(h.chunkSize);
        long need = new BucketLayout(h.keyWidth, h.valueWidth, file).endOfCells(h.allocatedCells);
        if (file.size() < need) {
            throw HashIndexException.corrupt(path, file.size(), "truncated: the file is " + file.size()
                    + " bytes but its header describes " + need + " bytes");
        }
        return h;
    }
}
