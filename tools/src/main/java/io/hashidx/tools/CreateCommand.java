package io.hashidx.tools;

import io.hashidx.store.HashIndex;
import io.hashidx.store.Inspection;
import io.hashidx.store.Options;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hashidx create}: creates an empty index file, with variable lengths or fixed key and value widths. */
@Command(name = "create", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Creates an empty index file.",
            "",
            "FILE must not exist yet. Without --key-size and --value-size its keys and values have any length "
                    + "up to 16 MiB each (variable lengths: short ones live in the bucket slots, longer ones in "
                    + "record cells). With both, FILE gets keys of at most K bytes and values of at most V bytes "
                    + "(fixed widths: the slots hold every entry, the fastest layout for short keys). "
                    + "With --expected N the file is laid out for N entries at once (every byte reserved on "
                    + "disk now), so that loading them performs no growth; without it the file starts with one "
                    + "bucket and doubles as entries arrive. 'hashidx plan' shows the figures beforehand.",
            "",
            "Examples:",
            "  hashidx create docs.hidx",
            "  hashidx create users.hidx --key-size 16 --value-size 64",
            "  hashidx create big.hidx --key-size 16 --value-size 16 --expected 10000000",
            "  hashidx create fixed.hidx --key-size 8 --value-size 8 --seed 0x9e3779b97f4a7c15",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:created",
            "2:error: usage, or a hashidx error (the message starts with its code, e.g. HIDX-011)"})
final class CreateCommand extends ToolCommand {
    @Parameters(index = "0", paramLabel = "FILE", description = "the index file to create")
    Path file;

    @Option(names = "--key-size", paramLabel = "K",
            description = "key width in bytes (0..65535) of a fixed-width file (default: variable lengths)")
    Integer keySize;

    @Option(names = "--value-size", paramLabel = "V",
            description = "value width in bytes (0..16777216) of a fixed-width file (default: variable lengths)")
    Integer valueSize;

    @Option(names = "--expected", paramLabel = "N", defaultValue = "0",
            description = "entries to presize for: loading that many grows nothing (default: ${DEFAULT-VALUE})")
    long expected;

    @Option(names = "--seed", paramLabel = "S", converter = SeedConverter.class,
            description = "hash seed, decimal or 0x-prefixed hex (default: random); "
                    + "the same seed and the same puts give the same file layout")
    Long seed;

    @Option(names = "--json", description = "print what was created as one JSON object")
    boolean json;

    @Override
    public Integer call() {
        Options options = widthsOrVariable(keySize, valueSize).expectedEntries(expected);
        if (seed != null) {
            options = options.seed(seed);
        }
        Inspection created;
        try (HashIndex idx = HashIndex.create(file, options)) {
            created = idx.inspect();
        }
        if (json) {
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("path", file.toString());
            o.put("variable_lengths", created.variableLengths());
            o.put("key_size", created.variableLengths() ? null : created.keyWidth());
            o.put("value_size", created.variableLengths() ? null : created.valueWidth());
            o.put("seed", Figures.hex64(created.seed()));
            o.put("expected", expected);
            o.put("buckets", created.buckets());
            o.put("file_bytes", created.fileBytes());
            out().println(Json.write(o));
        } else {
            out().println("created " + file + ": " + describeWidths(created) + ", seed " + Figures.hex64(created.seed()) + ", "
                    + Figures.count(created.buckets()) + (created.buckets() == 1 ? " bucket, " : " buckets, ")
                    + "file of " + Figures.count(created.fileBytes()) + " bytes");
        }
        return 0;
    }

    /** "key width 16 bytes, value width 64 bytes", or the variable-length equivalent. */
    static String describeWidths(Inspection in) {
        if (in.variableLengths()) {
            return "variable-length keys and values (up to 16 MiB each; inline up to " + in.keyWidth() + " and "
                    + in.valueWidth() + " bytes)";
        }
        return "key width " + in.keyWidth() + " bytes, value width " + in.valueWidth() + " bytes";
    }

    /** Decimal ({@code -42}) or hex with a 0x prefix ({@code 0x9e3779b97f4a7c15}, all 64 bits). */
    static final class SeedConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            try {
                if (value.startsWith("0x") || value.startsWith("0X")) {
                    return Long.parseUnsignedLong(value.substring(2), 16);
                }
                return Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + value + "' is not a 64-bit decimal or 0x-hex number");
            }
        }
    }
}
