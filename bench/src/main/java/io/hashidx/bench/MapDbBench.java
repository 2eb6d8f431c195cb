package io.hashidx.bench;

import org.openjdk.jmh.annotations.Fork;

/**
 * The workloads on MapDB (HTreeMap in a memory-mapped file).
 */
@Fork(1)
public class MapDbBench extends Workloads {
}
