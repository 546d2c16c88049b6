import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.sql.Time;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Reference oracle for the Python placement math.
 *
 * Reads one request per line ("op arg arg ..."), answers one line per request.
 * hashCode answers come from the real JDK classes ("obj" builds nested
 * ArrayList/HashSet/HashMap values element by element, so the JDK decides
 * which elements are equal); "part", "mix", "assign", "lower" and "schema" are
 * this project's own Java statement of Ignite's formulas
 * (RendezvousAffinityFunction incl. replicatedAssign, BinaryBasicIdMapper,
 * FNV-1 schema id), with Character.toLowerCase from the running JDK.
 * Strings travel as hex of their UTF-16 code units so any char sequence,
 * lone surrogates included, survives the trip.
 */
public final class HashOracle {
    private HashOracle() {
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(System.out, false, "UTF-8");
        String line;
        while ((line = in.readLine()) != null) {
            String answer;
            try {
                answer = answer(line.split(" ", -1));
            } catch (RuntimeException e) {
                answer = "error " + e;
            }
            out.println(answer);
            if (!in.ready()) {
                out.flush();
            }
        }
        out.flush();
    }

    private static String answer(String[] a) {
        switch (a[0]) {
            case "byte": return Integer.toString(Byte.valueOf(Byte.parseByte(a[1])).hashCode());
            case "short": return Integer.toString(Short.valueOf(Short.parseShort(a[1])).hashCode());
            case "int": return Integer.toString(Integer.valueOf(Integer.parseInt(a[1])).hashCode());
            case "long": return Integer.toString(Long.valueOf(Long.parseLong(a[1])).hashCode());
            case "float": return Integer.toString(Float.valueOf(Float.intBitsToFloat(Integer.parseUnsignedInt(a[1]))).hashCode());
            case "double": return Integer.toString(Double.valueOf(Double.longBitsToDouble(Long.parseUnsignedLong(a[1]))).hashCode());
            case "char": return Integer.toString(Character.valueOf((char) Integer.parseInt(a[1])).hashCode());
            case "bool": return Integer.toString(Boolean.valueOf(a[1].equals("1")).hashCode());
            case "string": return Integer.toString(string(a[1]).hashCode());
            case "uuid": return Integer.toString(new UUID(Long.parseLong(a[1]), Long.parseLong(a[2])).hashCode());
            case "date": return Integer.toString(new Date(Long.parseLong(a[1])).hashCode());
            case "timestamp": return Integer.toString(timestamp(Long.parseLong(a[1]), Integer.parseInt(a[2])).hashCode());
            case "time": return Integer.toString(new Time(Long.parseLong(a[1])).hashCode());
            case "decimal": return Integer.toString(new BigDecimal(new BigInteger(a[1]), Integer.parseInt(a[2])).hashCode());
            case "bytes": return Integer.toString(Arrays.hashCode(bytes(a[1])));
            case "list": return Integer.toString(longs(a, 1, new ArrayList<>()).hashCode());
            case "set": return Integer.toString(longs(a, 1, new HashSet<>()).hashCode());
            case "map": return Integer.toString(stringToLong(a).hashCode());
            case "enum": return Integer.toString(31 * Integer.parseInt(a[1]) + Integer.parseInt(a[2]));
            case "lower": return Integer.toString(lowerCaseHash(string(a[1])));
            case "schema": return Integer.toString(schemaId(a));
            case "part": return Integer.toString(partition(Integer.parseInt(a[1]), Integer.parseInt(a[2])));
            case "mix": return Long.toString(mix(Integer.parseInt(a[1]), Integer.parseInt(a[2])));
            case "assign": return assign(a);
            case "obj": return Integer.toString(objects(a).hashCode());
            case "lowerall": return lowerAll();
            case "decimalhex": return Integer.toString(new BigDecimal(new BigInteger(a[1], 16), Integer.parseInt(a[2])).hashCode());
            default: throw new IllegalArgumentException("unknown op " + a[0]);
        }
    }

    private static String string(String hex) {
        char[] units = new char[hex.length() / 4];
        for (int i = 0; i < units.length; i++) {
            units[i] = (char) Integer.parseInt(hex.substring(4 * i, 4 * i + 4), 16);
        }
        return new String(units);
    }

    private static byte[] bytes(String hex) {
        byte[] data = new byte[hex.length() / 2];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) Integer.parseInt(hex.substring(2 * i, 2 * i + 2), 16);
        }
        return data;
    }

    private static Timestamp timestamp(long millis, int nanoFraction) {
        Timestamp ts = new Timestamp(millis);
        ts.setNanos((int) Math.floorMod(millis, 1000L) * 1_000_000 + nanoFraction);
        return ts;
    }

    private static <C extends java.util.Collection<Long>> C longs(String[] a, int from, C target) {
        for (int i = from; i < a.length; i++) {
            target.add(a[i].equals("null") ? null : Long.valueOf(a[i]));
        }
        return target;
    }

    private static Map<String, Long> stringToLong(String[] a) {
        Map<String, Long> map = new HashMap<>();
        for (int i = 1; i + 1 < a.length; i += 2) {
            map.put(string(a[i]), Long.valueOf(a[i + 1]));
        }
        return map;
    }

    /** "obj TOKEN..." -> the one value the tokens describe (see value()). */
    private static Object objects(String[] a) {
        int[] pos = {1};
        Object value = value(a, pos);
        if (pos[0] != a.length) {
            throw new IllegalArgumentException("trailing tokens");
        }
        return value;
    }

    /**
     * One value in prefix form: "n" null; "list N", "set N" (HashSet, added in
     * order), "map N" (HashMap, N key/value pairs put in order) followed by their
     * elements; else "tag:args": l Long, i Integer, s Short, b Byte, f Float bits,
     * d Double bits, c char, z boolean, S String (UTF-16 hex), U UUID msb:lsb,
     * D Date ms, T Time ms, P Timestamp ms:nanos-of-ms, M BigDecimal hex:scale.
     */
    private static Object value(String[] a, int[] pos) {
        String token = a[pos[0]++];
        switch (token) {
            case "n": return null;
            case "list": return fill(a, pos, new ArrayList<>());
            case "set": return fill(a, pos, new HashSet<>());
            case "map": {
                int n = Integer.parseInt(a[pos[0]++]);
                Map<Object, Object> map = new HashMap<>();
                for (int i = 0; i < n; i++) {
                    Object key = value(a, pos);
                    map.put(key, value(a, pos));
                }
                return map;
            }
            default: break;
        }
        String[] p = token.split(":", -1);
        switch (p[0]) {
            case "l": return Long.valueOf(p[1]);
            case "i": return Integer.valueOf(p[1]);
            case "s": return Short.valueOf(p[1]);
            case "b": return Byte.valueOf(p[1]);
            case "f": return Float.intBitsToFloat(Integer.parseUnsignedInt(p[1]));
            case "d": return Double.longBitsToDouble(Long.parseUnsignedLong(p[1]));
            case "c": return (char) Integer.parseInt(p[1]);
            case "z": return p[1].equals("1");
            case "S": return string(p[1]);
            case "U": return new UUID(Long.parseLong(p[1]), Long.parseLong(p[2]));
            case "D": return new Date(Long.parseLong(p[1]));
            case "T": return new Time(Long.parseLong(p[1]));
            case "P": return timestamp(Long.parseLong(p[1]), Integer.parseInt(p[2]));
            case "M": return new BigDecimal(new BigInteger(p[1], 16), Integer.parseInt(p[2]));
            default: throw new IllegalArgumentException("unknown token " + token);
        }
    }

    private static <C extends java.util.Collection<Object>> C fill(String[] a, int[] pos, C target) {
        int n = Integer.parseInt(a[pos[0]++]);
        for (int i = 0; i < n; i++) {
            target.add(value(a, pos));
        }
        return target;
    }

    /** Character.toLowerCase of every char 0..0xFFFF, as UTF-16 hex. */
    private static String lowerAll() {
        StringBuilder out = new StringBuilder(4 * 65536);
        for (int c = 0; c <= 0xFFFF; c++) {
            out.append(String.format("%04x", (int) Character.toLowerCase((char) c)));
        }
        return out.toString();
    }

    /** BinaryBasicIdMapper (lower case): Character.toLowerCase per UTF-16 unit, then the 31-hash. */
    private static int lowerCaseHash(String name) {
        int h = 0;
        for (int i = 0; i < name.length(); i++) {
            h = 31 * h + Character.toLowerCase(name.charAt(i));
        }
        return h;
    }

    /** FNV-1 over the little-endian bytes of each field id. */
    private static int schemaId(String[] a) {
        if (a.length == 1) {
            return 0;
        }
        int schema = 0x811C9DC5;
        for (int i = 1; i < a.length; i++) {
            int fieldId = Integer.parseInt(a[i]);
            for (int shift = 0; shift < 32; shift += 8) {
                schema ^= (fieldId >> shift) & 0xFF;
                schema *= 0x01000193;
            }
        }
        return schema;
    }

    /** RendezvousAffinityFunction: mask for powers of two, safe |h % parts| otherwise. */
    private static int partition(int h, int parts) {
        int mask = (parts & (parts - 1)) == 0 ? parts - 1 : -1;
        if (mask >= 0) {
            return (h ^ (h >>> 16)) & mask;
        }
        int p = h % parts;
        return p == Integer.MIN_VALUE ? 0 : Math.abs(p);
    }

    /** 64-bit Wang/Jenkins mix of (node hash as unsigned int) | (partition << 32). */
    private static long mix(int nodeHash, int part) {
        long key = (nodeHash & 0xFFFFFFFFL) | ((long) part << 32);
        key = (~key) + (key << 21);
        key ^= (key >>> 24);
        key = (key + (key << 3)) + (key << 8);
        key ^= (key >>> 14);
        key = (key + (key << 2)) + (key << 4);
        key ^= (key >>> 28);
        key += (key << 31);
        return key;
    }

    /**
     * "assign parts backups NODE ..." -> per partition "i,j,..." joined by ';'.
     * NODE is "cid:msb:lsb" where cid is a String as UTF-16 hex, or "u" + msb + "_" + lsb
     * for a java.util.UUID consistent id. Nodes are given in topology order.
     */
    private static String assign(String[] a) {
        int parts = Integer.parseInt(a[1]);
        int backups = Integer.parseInt(a[2]);
        int n = a.length - 3;
        Object[] ids = new Object[n];
        UUID[] nodeIds = new UUID[n];
        for (int i = 0; i < n; i++) {
            String[] node = a[3 + i].split(":");
            if (node[0].startsWith("u")) {
                String[] halves = node[0].substring(1).split("_");
                ids[i] = new UUID(Long.parseLong(halves[0]), Long.parseLong(halves[1]));
            }
            else {
                ids[i] = string(node[0]);
            }
            nodeIds[i] = new UUID(Long.parseLong(node[1]), Long.parseLong(node[2]));
        }
        int owners = backups == Integer.MAX_VALUE ? n : (int) Math.min((long) backups + 1, n);
        StringBuilder out = new StringBuilder();
        for (int part = 0; part < parts; part++) {
            final int p = part;
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                order.add(i);
            }
            order.sort((x, y) -> {
                int byHash = Long.compare(mix(ids[x].hashCode(), p), mix(ids[y].hashCode(), p));
                return byHash != 0 ? byHash : nodeIds[x].compareTo(nodeIds[y]);
            });
            if (backups == Integer.MAX_VALUE && n > 1) {
                // replicatedAssign: the primary, then the other nodes in topology order.
                int primary = order.get(0);
                order.clear();
                order.add(primary);
                for (int i = 0; i < n; i++) {
                    if (i != primary) {
                        order.add(i);
                    }
                }
            }
            if (part > 0) {
                out.append(';');
            }
            for (int i = 0; i < owners; i++) {
                if (i > 0) {
                    out.append(',');
                }
                out.append(order.get(i));
            }
        }
        return out.toString();
    }
}
