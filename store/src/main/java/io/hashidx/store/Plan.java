package io.hashidx.store;

/**
 * What {@link HashIndex#create} lays out for a set of {@link Options} ({@link HashIndex#plan}).
 *
 * @param buckets               primary buckets of the first bucket array
 * @param reservedOverflowPages overflow pages set aside as free space for the expected entries
 * @param fileBytes             size of the new file, header included
 * @param pageBytes             bytes per bucket or overflow page (8 slots, 64-byte aligned)
 */
public record Plan(long buckets, long reservedOverflowPages, long fileBytes, int pageBytes) {
}
