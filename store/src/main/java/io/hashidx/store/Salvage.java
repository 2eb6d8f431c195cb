package io.hashidx.store;

import static io.hashidx.store.BucketLayout.EVACUATED_X;
import static io.hashidx.store.BucketLayout.EVACUATED_Y;
import static io.hashidx.store.BucketLayout.MIN_TOPHASH;
import static io.hashidx.store.BucketLayout.NONE;
import static io.hashidx.store.BucketLayout.SLOTS;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Reads every entry that can still be read from a damaged index file, and says what could not be
 * read; {@code hashidx recover} copies them into a new file. The file is opened read-only, with the
 * shared lock of {@link HashIndex#openReadOnly}, and never changed.
 *
 * <pre>{@code
 * try (Salvage salvage = Salvage.open(damaged);
 *      HashIndex copy = HashIndex.create(target, Options.widths(salvage.keyWidth(), salvage.valueWidth()))) {
 *     Salvage.Report report = salvage.copyTo(copy::put);
 * }
 * }</pre>
 *
 * <ul>
 *   <li><b>Header.</b> The newest valid copy, as an open uses. When both copies are damaged, a copy
 *       whose fields are all consistent (only its checksum fails) is used. When neither is, the
 *       widths come from a copy whose widths, stride and chunk size still agree, or else from the
 *       fallback {@link Options} given to {@link #open(Path, Options)}, and every cell is scanned (below).
 *   <li><b>Chains</b> are read as lookups see them: while growing, the old buckets not yet evacuated
 *       and the new buckets whose old bucket is evacuated (the destination of an unevacuated old
 *       bucket can hold only an interrupted copy, which lookups ignore too). A chain is followed until
 *       a link leaves the allocated cells or the file, names a bucket, or comes back to a page already
 *       read (a cycle, or two chains sharing a page); that link's file offset is reported and the walk
 *       goes on with the next bucket.
 *   <li><b>Slots.</b> A slot whose stored lengths exceed the widths, or whose tophash byte does not
 *       match its key's hash, is damaged: it is not read and counts as unreadable. A key found in a
 *       bucket it does not hash to is recovered unless its own bucket holds it too. Of two equal keys
 *       in one chain the first wins, as in a lookup. An overwrite cut short by a crash is read from the
 *       journal, as a read-only open reads it.
 *   <li><b>Scan.</b> Without a usable header the structure is unknown: every cell of the file is read
 *       as a page; a live slot is recovered when its lengths fit the widths and, if a seed could be
 *       confirmed (one that matches the tophash bytes of most slots), its tophash matches. Each key is
 *       recovered once; a key met again with another value (a stale copy in a freed page, or damage) is
 *       reported as a conflict and the first value met is kept. Keys are held in memory. Such a result
 *       is never {@link Report#complete() complete}.
 * </ul>
 *
 * Damage inside the file is reported, never thrown. {@link #open} throws a {@link HashIndexException}
 * only when the file cannot be read at all: missing, locked by a writer, shorter than its header
 * page, not a hashidx file, or with both header copies unusable and no fallback widths.
 */
public final class Salvage implements AutoCloseable {
    /** Problems listed in a report at most; the rest are only counted. */
    public static final int MAX_PROBLEMS = 1000;
    private static final int SEED_SAMPLE = 256;

    private final Path path;
    private final MappedFile file;
    private final MemorySegment page;
    /** The header fields used: the chosen copy, or in a scan only the widths, chunk size and journal cell. */
    private final Header h;
    private final String headerSource;
    private final boolean scan;
    private final BucketLayout layout;
    private final long cellsInFile;
    private final OptionalLong seed;
    private final List<Problem> problems = new ArrayList<>();
    private long problemsOmitted;
    private long expected = -1;
    /** Slots whose overwrite a crash cut short (slot reference -> journal slot), from the intent records. */
    private final java.util.Map<Long, Integer> pendingOverwrites = new java.util.HashMap<>();
    private long recovered;
    private long unreadableSlots;
    private long chainsCut;
    private long missingCells;
    private long pagesRead;
    private BitSet visited;
    private final List<Misplaced> misplaced = new ArrayList<>();
    private BiConsumer<byte[], byte[]> sink;
    private boolean used;
    private boolean closed;

    /**
     * A problem found in the file.
     *
     * @param kind        what it is, a stable snake_case word: {@code header_copy} (one header copy is
     *                    damaged), {@code headers} (both are), {@code truncated}, {@code live_count},
     *                    {@code intent}, {@code overflow_link} (a link outside the allocated cells or
     *                    the file, or to a bucket), {@code cycle}, {@code bad_slot} (an unreadable slot),
     *                    {@code misplaced} (a key in a bucket it does not hash to, recovered),
     *                    {@code duplicate} (a second copy of a key, dropped), {@code conflict} (a key
     *                    met with two values in a scan), {@code missing_buckets}, {@code seed}
     * @param fileOffset  where in the file: the damaged field, link or slot; -1 when nowhere in particular
     * @param description what was found and what was done about it
     */
    public record Problem(String kind, long fileOffset, String description) {
    }

    /**
     * What a salvage read and what it could not.
     *
     * @param header           where the widths and the seed came from, e.g. {@code header copy A}
     * @param keyWidth         the key width used
     * @param valueWidth       the value width used
     * @param seed             the hash seed, when known
     * @param scanned          true when no header was usable and every cell was scanned
     * @param expectedEntries  the entry count the file recorded; -1 when it is unknown or impossible
     * @param recoveredEntries entries handed to the sink
     * @param unreadableSlots  live slots that could not be read (lengths beyond the widths, wrong tophash)
     * @param chainsCut        overflow chains whose walk stopped at a bad link or a cycle
     * @param missingCells     cells the header describes beyond the end of a truncated file
     * @param pagesRead        buckets and overflow pages read
     * @param problems         what was found, at most {@link #MAX_PROBLEMS}
     * @param problemsOmitted  problems found beyond those listed
     */
    public record Report(String header, int keyWidth, int valueWidth, OptionalLong seed, boolean scanned,
                         long expectedEntries, long recoveredEntries, long unreadableSlots, long chainsCut,
                         long missingCells, long pagesRead, List<Problem> problems, long problemsOmitted) {
        public Report {
            problems = List.copyOf(problems);
        }

        /** Entries the file recorded that were not recovered; -1 when the recorded count is unknown. */
        public long lostEntries() {
            return expectedEntries < 0 ? -1 : Math.max(0, expectedEntries - recoveredEntries);
        }

        /**
         * True when the structure was read (no scan), no slot was unreadable, and exactly the entry
         * count the file recorded was recovered: then nothing was lost, even if problems were found.
         */
        public boolean complete() {
            return !scanned && unreadableSlots == 0 && expectedEntries >= 0 && recoveredEntries == expectedEntries;
        }
    }

    /** Opens a damaged file for salvage; without a usable header copy, it fails (see {@link #open(Path, Options)}). */
    public static Salvage open(Path damaged) {
        return open(damaged, null);
    }

    /**
     * Opens a damaged file for salvage. {@code fallback} gives the widths (and optionally the seed) to
     * scan with when both header copies are unusable and neither still holds consistent widths; it may
     * be null, and is ignored when the file's own header can be used.
     */
    public static Salvage open(Path damaged, Options fallback) {
        FileLocks.Handle handle = FileLocks.acquire(damaged, false, false);
        MappedFile file;
        try {
            // a salvage reads cells that no header describes: no writer may change them meanwhile
            if (!handle.holdWritersOut()) {
                throw HashIndexException.locked(damaged, "another process has the file open for writing");
            }
            file = new MappedFile(damaged, handle, false);
        } catch (RuntimeException e) {
            handle.release();
            throw e;
        }
        try {
            return new Salvage(damaged, file, fallback);
        } catch (RuntimeException e) {
            file.close();
            throw e;
        }
    }

    private Salvage(Path path, MappedFile file, Options fallback) {
        this.path = path;
        this.file = file;
        this.page = file.header();
        Header.Copy a = Header.readCopy(page, 0);
        Header.Copy b = Header.readCopy(page, 1);
        Header valid = Header.newestValid(a, b);
        Header consistent = valid != null ? null : newestConsistent(a, b);
        if (valid != null) {
            if (valid.readVersion > Header.READ_VERSION) {
                throw HashIndexException.unsupportedVersion(path, valid.readVersion, Header.READ_VERSION, false);
            }
            h = valid;
            headerSource = "header copy " + (valid == a.fields() ? "A" : "B");
            scan = false;
            damagedCopy(a, "A", Header.COPY_A, "B");
            damagedCopy(b, "B", Header.COPY_B, "A");
        } else if (consistent != null) {
            h = consistent;
            String name = consistent == a.fields() ? "A" : "B";
            headerSource = "damaged header copy " + name + " (its fields are consistent, only its checksum fails)";
            scan = false;
            problem("headers", Header.COPY_A, "both header copies are damaged (" + copyProblems(a, b)
                    + "); the fields of copy " + name + " are consistent and were used");
        } else {
            ScanBasis basis = widthsForScan(a, b, fallback);
            h = basis.fields();
            headerSource = "scan with " + basis.from();
            scan = true;
            problem("headers", Header.COPY_A, "both header copies are damaged (" + copyProblems(a, b)
                    + "); every cell of the file was scanned, with " + basis.from());
        }
        file.setChunkSize(h.chunkSize);
        if (file.size() > MappedFile.DATA_START) {
            file.ensureMapped(file.size());
        }
        layout = new BucketLayout(h.keyWidth, h.valueWidth, file, h.variable());
        cellsInFile = layout.cellsWithin(file.size());
        if (!scan && h.allocatedCells > cellsInFile) {
            missingCells = h.allocatedCells - cellsInFile;
            problem("truncated", file.size(), "the file is " + file.size() + " bytes but its header describes "
                    + layout.endOfCells(h.allocatedCells) + " bytes: cells " + cellsInFile + ".." + (h.allocatedCells - 1)
                    + " (" + missingCells + " cells) are missing");
        }
        seed = scan ? confirmSeed(a, b, fallback) : OptionalLong.of(h.seed);
        readLiveArea();
    }

    /** The newest copy with the magic bytes whose fields pass every check but the checksum. */
    private static Header newestConsistent(Header.Copy a, Header.Copy b) {
        Header best = null;
        for (Header.Copy c : new Header.Copy[] {a, b}) {
            if (c.magicOk() && c.fieldProblem() == null && c.fields().readVersion <= Header.READ_VERSION
                    && (best == null || c.fields().generation > best.generation)) {
                best = c.fields();
            }
        }
        return best;
    }

    private void damagedCopy(Header.Copy copy, String name, long offset, String other) {
        if (!copy.valid()) {
            problem("header_copy", offset, "header copy " + name + " at file offset " + offset + " is damaged ("
                    + copy.problem() + "); copy " + other + " was used");
        }
    }

    private static String copyProblems(Header.Copy a, Header.Copy b) {
        return "copy A: " + a.problem() + "; copy B: " + b.problem();
    }

    private record ScanBasis(Header fields, String from) {
    }

    /** Widths, chunk size and journal cell for a scan: from a copy whose widths still agree, else from {@code fallback}. */
    private ScanBasis widthsForScan(Header.Copy a, Header.Copy b, Options fallback) {
        Header fields = null;
        for (Header.Copy c : new Header.Copy[] {a, b}) {
            if (c.magicOk() && c.fields().widthsProblem() == null
                    && (fields == null || c.fields().generation > fields.generation)) {
                fields = c.fields();
            }
        }
        String from;
        if (fields != null) {
            from = "the widths of damaged header copy " + (fields == a.fields() ? "A" : "B");
        } else if (fallback != null) {
            fields = new Header();
            fields.keyWidth = fallback.keyWidth();
            fields.valueWidth = fallback.valueWidth();
            fields.stride = BucketLayout.strideFor(fallback.keyWidth(), fallback.valueWidth());
            fields.chunkSize = fallback.chunkSize();
            from = "the widths given (key " + fallback.keyWidth() + ", value " + fallback.valueWidth() + " bytes)";
        } else if (!a.magicOk() && !b.magicOk()) {
            throw HashIndexException.notHashIndex(path, "no hashidx magic bytes at offset 0 or 512; if it is a hashidx "
                    + "file whose header was overwritten, give its key and value widths to scan it");
        } else {
            throw HashIndexException.corrupt(path, 0, "both header copies are damaged (" + copyProblems(a, b)
                    + ") and neither holds usable widths; give the file's key and value widths to scan it");
        }
        fields.journalCell = 0; // FORMAT.md section 7: the journal is cell 0 of every file
        return new ScanBasis(fields, from);
    }

    /**
     * In a scan, the seed is the one among the damaged copies' seeds and the fallback's that matches
     * the tophash bytes of at least 90% of a sample of live slots; none when no candidate does.
     */
    private OptionalLong confirmSeed(Header.Copy a, Header.Copy b, Options fallback) {
        List<Long> candidates = new ArrayList<>();
        for (Header.Copy c : new Header.Copy[] {a, b}) {
            if (c.magicOk()) {
                candidates.add(c.fields().seed);
            }
        }
        if (fallback != null && fallback.seed().isPresent()) {
            candidates.add(fallback.seed().getAsLong());
        }
        List<byte[]> keys = new ArrayList<>();
        List<Integer> tops = new ArrayList<>();
        for (long c = 0; c < cellsInFile && keys.size() < SEED_SAMPLE; c++) {
            for (int i = 0; i < SLOTS && keys.size() < SEED_SAMPLE; i++) {
                int th = layout.tophash(c, i);
                if (th >= MIN_TOPHASH && !layout.outOfLine(c, i) && lengthsFit(c, i)) {
                    keys.add(layout.key(c, i));
                    tops.add(th);
                }
            }
        }
        for (long candidate : candidates) {
            int matches = 0;
            for (int k = 0; k < keys.size(); k++) {
                if (Hashing.tophash(Hashing.hash(keys.get(k), candidate)) == tops.get(k)) {
                    matches++;
                }
            }
            if (!keys.isEmpty() && matches * 10L >= keys.size() * 9L) {
                return OptionalLong.of(candidate);
            }
        }
        if (!keys.isEmpty()) {
            problem("seed", -1, "no seed matches the tophash bytes of the slots, so damaged slots cannot be told "
                    + "from entries; the copy is created with a new seed");
        }
        return OptionalLong.empty();
    }

    /**
     * The entry count and the intent records of the operations a crash cut short (FORMAT.md section 4):
     * the version-1 record, then every writer lane's.
     */
    private void readLiveArea() {
        long count = Header.liveCount(page);
        long op = Header.intentOp(page);
        if (op != Header.INTENT_NONE) {
            count = replayedCount(op, Header.intentSlot(page), Header.intentCountBefore(page), count, 0,
                    Header.INTENT_OP_OFFSET, "the intent record");
        }
        for (int lane = 0; lane < Header.LANES; lane++) {
            long laneCount = Header.laneCount(page, lane);
            long laneOp = Header.laneOp(page, lane);
            if (laneOp != Header.INTENT_NONE) {
                laneCount = replayedCount(laneOp, Header.laneSlot(page, lane), Header.laneCountBefore(page, lane),
                        laneCount, lane, Header.laneOffset(lane), "the intent record of writer lane " + lane);
            }
            count += laneCount;
        }
        long capacity = (scan ? cellsInFile : Math.min(cellsInFile, h.allocatedCells)) * SLOTS;
        if (count < 0 || count > capacity + missingCells * SLOTS) {
            problem("live_count", Header.LIVE_COUNT_OFFSET, "the entry count " + count
                    + " is impossible for this file; how many entries were lost is unknown");
        } else {
            expected = count;
        }
    }

    /** The count after one intent record's operation; an overwrite's slot is read from the journal. */
    private long replayedCount(long op, long ref, long before, long count, int journalSlot, long offset, String what) {
        long cell = ref / SLOTS;
        if (op < Header.INTENT_INSERT || op > Header.INTENT_REMOVE || ref < 0 || !readable(cell)) {
            problem("intent", offset, what + " (operation " + op + ", slot " + ref
                    + ") is damaged or names a cell outside the file; ignored");
            return count;
        }
        boolean live = layout.tophash(cell, (int) (ref % SLOTS)) >= MIN_TOPHASH;
        if (op == Header.INTENT_OVERWRITE) {
            pendingOverwrites.put(ref, journalSlot);
        }
        return Header.countAfterIntent(op, before, live);
    }

    /** The key width, or in a variable-length file the inline key width. */
    public int keyWidth() {
        return h.keyWidth;
    }

    /** Whether the file has variable lengths: copy into {@code Options.variableLengths(keyWidth(), valueWidth())}. */
    public boolean variableLengths() {
        return h.variable();
    }

    public int valueWidth() {
        return h.valueWidth;
    }

    /** The file's hash seed, when the header (or a scan) could establish it. */
    public OptionalLong seed() {
        return seed;
    }

    /** The entry count the file recorded, or -1 when it is unknown or impossible. */
    public long expectedEntries() {
        return expected;
    }

    /**
     * Hands every readable entry to {@code sink}, each key once, and reports what was found. Can be
     * called once.
     */
    public Report copyTo(BiConsumer<byte[], byte[]> sink) {
        if (closed) {
            throw HashIndexException.closed(path);
        }
        if (used) {
            throw HashIndexException.invalidArgument(path, "copyTo was called already; open the file again");
        }
        used = true;
        this.sink = sink;
        if (scan) {
            scanCells();
        } else {
            walkArrays();
        }
        return new Report(headerSource, h.keyWidth, h.valueWidth, seed, scan, expected, recovered, unreadableSlots,
                chainsCut, missingCells, pagesRead, problems, problemsOmitted);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            file.close();
        }
    }

    // ---------------------------------------------------------------- walking the structure

    private void walkArrays() {
        visited = new BitSet((int) Math.min(Integer.MAX_VALUE, Math.min(cellsInFile, h.allocatedCells)));
        boolean growing = h.growing();
        if (growing) {
            reportMissingBuckets("old", h.oldBucketsCell, h.oldBucketCount);
            for (long b = 0; b < h.oldBucketCount; b++) {
                long cell = h.oldBucketsCell + b;
                if (readable(cell) && !evacuated(cell)) {
                    walkChain(cell, b, true);
                }
            }
        }
        reportMissingBuckets("current", h.bucketsCell, h.bucketCount);
        for (long n = 0; n < h.bucketCount; n++) {
            long cell = h.bucketsCell + n;
            if (growing) {
                long old = h.oldBucketsCell + oldIndexOf(n);
                if (readable(old) && !evacuated(old)) {
                    continue; // its entries are in the old bucket; this one holds at most an interrupted copy
                }
            }
            if (readable(cell)) {
                walkChain(cell, n, false);
            }
        }
        resolveMisplaced();
    }

    private void reportMissingBuckets(String array, long first, long count) {
        long readableBuckets = Math.clamp(cellsInFile - first, 0, count);
        if (readableBuckets < count) {
            problem("missing_buckets", file.size(), "buckets " + readableBuckets + ".." + (count - 1) + " of the " + array
                    + " array (cells " + (first + readableBuckets) + ".." + (first + count - 1)
                    + ") lie beyond the end of the file; their entries are lost");
        }
    }

    private long oldIndexOf(long newIndex) {
        return h.oldIndexOf(newIndex);
    }

    private boolean evacuated(long oldCell) {
        return BucketLayout.isEvacuatedMark(layout.tophash(oldCell, 0));
    }

    private boolean readable(long cell) {
        return cell >= 0 && cell < cellsInFile && (scan || cell < h.allocatedCells);
    }

    private boolean isBucket(long cell) {
        return (cell >= h.bucketsCell && cell < h.bucketsCell + h.bucketCount)
                || (h.growing() && cell >= h.oldBucketsCell && cell < h.oldBucketsCell + h.oldBucketCount);
    }

    /** Reads one chain; stops at a link that leaves the file, names a bucket, or returns to a page already read. */
    private void walkChain(long first, long index, boolean old) {
        Set<ByteBuffer> keys = new HashSet<>();
        String bucket = (old ? "old bucket " : "bucket ") + index;
        long c = first;
        visited.set((int) c);
        while (true) {
            pagesRead++;
            for (int i = 0; i < SLOTS; i++) {
                readSlot(c, i, index, old, bucket, keys);
            }
            long next = layout.overflowUnchecked(c);
            if (next == NONE) {
                return;
            }
            String where = bucket + ": the overflow link of cell " + c + " names cell " + next;
            String kind = "overflow_link";
            String why = null;
            if (next < 0 || next >= h.allocatedCells) {
                why = ", outside the " + h.allocatedCells + " allocated cells";
            } else if (next >= cellsInFile) {
                why = ", beyond the end of the file";
            } else if (visited.get((int) next)) {
                kind = "cycle";
                why = ", a page already read: the chain runs in a cycle or shares a page with another chain";
            } else if (isBucket(next)) {
                why = ", a bucket, not an overflow page";
            }
            if (why != null) {
                chainsCut++;
                problem(kind, layout.cellOffset(c) + BucketLayout.OVERFLOW_OFFSET, where + why
                        + "; the rest of the chain was not read");
                return;
            }
            visited.set((int) next);
            c = next;
        }
    }

    private boolean lengthsFit(long cell, int slot) {
        int keyLength = layout.keyLength(cell, slot);
        int valueLength = layout.valueLength(cell, slot);
        if (layout.outOfLine(cell, slot)) {
            return keyLength >= 0 && keyLength <= Options.MAX_VARIABLE_LENGTH && valueLength >= 0
                    && valueLength <= Options.MAX_VARIABLE_LENGTH && layout.needsRecord(keyLength, valueLength);
        }
        return keyLength >= 0 && keyLength <= h.keyWidth && valueLength >= 0 && valueLength <= h.valueWidth;
    }

    /**
     * The key of a slot whose lengths fit, or null when an out-of-line slot's record cannot be read (a
     * link outside the file or a record shorter than its lengths), which is reported as unreadable.
     */
    private byte[] keyOf(long c, int i, String where) {
        try {
            byte[] key = layout.key(c, i);
            if (layout.outOfLine(c, i) && seed.isPresent()
                    && Hashing.hash(key, seed.getAsLong()) != layout.storedHash(c, i)) {
                unreadable(layout.slotOffset(c, i), where + ": the key in its record does not match the hash in the slot");
                return null;
            }
            return key;
        } catch (HashIndexException | IndexOutOfBoundsException e) {
            unreadable(layout.slotOffset(c, i), where + ": its record cannot be read (" + e.getMessage() + ")");
            return null;
        }
    }

    /** A live slot of a chain (or, in an unevacuated old bucket, a slot marked by a crash while marking). */
    private void readSlot(long c, int i, long index, boolean old, String bucket, Set<ByteBuffer> keys) {
        int th = layout.tophash(c, i);
        boolean marked = th == EVACUATED_X || th == EVACUATED_Y;
        if (th < MIN_TOPHASH && !(old && marked)) {
            return;
        }
        long at = layout.slotOffset(c, i);
        String where = bucket + ", cell " + c + " slot " + i;
        if (!lengthsFit(c, i)) {
            unreadable(at, where + ": stored key length " + layout.keyLength(c, i) + " or value length "
                    + layout.valueLength(c, i) + " exceeds the widths (" + h.keyWidth + ", " + h.valueWidth + ")");
            return;
        }
        byte[] key = keyOf(c, i, where);
        if (key == null) {
            return;
        }
        long hash = Hashing.hash(key, h.seed);
        if (!marked && th != Hashing.tophash(hash)) {
            unreadable(at, where + ": tophash " + th + " does not match its key's tophash " + Hashing.tophash(hash));
            return;
        }
        byte[] value = valueOf(c, i, key);
        if (value == null) {
            unreadable(at, where + ": its value cannot be read from its record");
            return;
        }
        long home = Hashing.bucketIndex(hash, old ? h.oldBucketCount : h.bucketCount);
        if (home != index) {
            misplaced.add(new Misplaced(key, value, at, where, (old ? "old bucket " : "bucket ") + home));
        } else if (!keys.add(ByteBuffer.wrap(key))) {
            problem("duplicate", at, where + ": a second copy of a key met earlier in the chain; the first copy "
                    + "was kept, as a lookup finds it");
        } else {
            emit(key, value);
        }
    }

    /** The slot's value, or the journal's image of it when a crash cut its overwrite short; null if unreadable. */
    private byte[] valueOf(long c, int i, byte[] key) {
        try {
            Integer journalSlot = pendingOverwrites.remove(c * SLOTS + i);
            if (journalSlot != null) {
                int j = journalSlot;
                if (readable(h.journalCell) && lengthsFit(h.journalCell, j)
                        && layout.keyEquals(h.journalCell, j, key, Hashing.hash(key, h.seed))) {
                    return layout.value(h.journalCell, j);
                }
                problem("intent", layout.slotOffset(h.journalCell, j), "the overwrite a crash cut short (cell " + c
                        + " slot " + i + ") could not be read from the journal; the slot's own value was kept");
            }
            return layout.value(c, i);
        } catch (HashIndexException | IndexOutOfBoundsException e) {
            return null;
        }
    }

    private record Misplaced(byte[] key, byte[] value, long offset, String where, String home) {
    }

    /** Keys found in a bucket they do not hash to: recovered unless their own bucket holds them too. */
    private void resolveMisplaced() {
        Set<ByteBuffer> done = new HashSet<>();
        for (Misplaced m : misplaced) {
            if (!done.add(ByteBuffer.wrap(m.key())) || reachable(m.key())) {
                problem("duplicate", m.offset(), m.where() + ": a key that belongs in " + m.home()
                        + ", which holds it too; this copy was dropped");
            } else {
                problem("misplaced", m.offset(), m.where() + ": a key that belongs in " + m.home() + "; recovered");
                emit(m.key(), m.value());
            }
        }
    }

    /** Whether a lookup of {@code key} would find a readable copy of it (in its own bucket). */
    private boolean reachable(byte[] key) {
        long hash = Hashing.hash(key, h.seed);
        if (h.growing()) {
            long old = h.oldBucketsCell + Hashing.bucketIndex(hash, h.oldBucketCount);
            if (readable(old) && !evacuated(old)) {
                return chainHolds(old, key, Hashing.tophash(hash), true);
            }
        }
        long cell = h.bucketsCell + Hashing.bucketIndex(hash, h.bucketCount);
        return readable(cell) && chainHolds(cell, key, Hashing.tophash(hash), false);
    }

    private boolean keyMatches(long c, int i, byte[] key) {
        try {
            return layout.keyEquals(c, i, key, Hashing.hash(key, h.seed));
        } catch (HashIndexException | IndexOutOfBoundsException e) {
            return false;
        }
    }

    private boolean chainHolds(long first, byte[] key, int top, boolean old) {
        Set<Long> seen = new HashSet<>();
        for (long c = first; readable(c) && seen.add(c); c = layout.overflowUnchecked(c)) {
            for (int i = 0; i < SLOTS; i++) {
                int th = layout.tophash(c, i);
                if ((th == top || (old && (th == EVACUATED_X || th == EVACUATED_Y)))
                        && lengthsFit(c, i) && keyMatches(c, i, key)) {
                    return true;
                }
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- scanning without a header

    private void scanCells() {
        Map<ByteBuffer, byte[]> seen = new HashMap<>();
        for (long c = 0; c < cellsInFile; c++) {
            if (c == h.journalCell) {
                continue;
            }
            pagesRead++;
            for (int i = 0; i < SLOTS; i++) {
                int th = layout.tophash(c, i);
                if (th < MIN_TOPHASH) {
                    continue;
                }
                long at = layout.slotOffset(c, i);
                String where = "cell " + c + " slot " + i;
                if (!lengthsFit(c, i)) {
                    unreadable(at, where + ": stored lengths exceed the widths");
                    continue;
                }
                byte[] key = keyOf(c, i, where);
                if (key == null) {
                    continue;
                }
                if (seed.isPresent() && th != Hashing.tophash(Hashing.hash(key, seed.getAsLong()))) {
                    unreadable(at, where + ": tophash " + th + " does not match its key");
                    continue;
                }
                byte[] value = valueOf(c, i, key);
                if (value == null) {
                    unreadable(at, where + ": its value cannot be read from its record");
                    continue;
                }
                byte[] first = seen.putIfAbsent(ByteBuffer.wrap(key), value);
                if (first == null) {
                    emit(key, value);
                } else if (!Arrays.equals(first, value)) {
                    problem("conflict", at, where + ": a key met before with another value (a stale copy, or "
                            + "damage); the first value met was kept");
                }
            }
        }
    }

    // ---------------------------------------------------------------- results

    private void emit(byte[] key, byte[] value) {
        sink.accept(key, value);
        recovered++;
    }

    private void unreadable(long offset, String description) {
        unreadableSlots++;
        problem("bad_slot", offset, description + "; not recovered");
    }

    private void problem(String kind, long offset, String description) {
        if (problems.size() < MAX_PROBLEMS) {
            problems.add(new Problem(kind, offset, description));
        } else {
            problemsOmitted++;
        }
    }
}
