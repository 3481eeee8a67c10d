using FastGate.Protocols.Hpack;
using FsCheck.Xunit;

namespace FastGate.Protocols.Tests.Hpack;

public class HpackDynamicTableTests
{
    [Fact]
    public void Evicts_the_oldest_entries_to_fit_and_counts_32_octets_each()
    {
        using var table = new HpackDynamicTable(100);
        table.Add("a"u8, "1"u8); // 34
        table.Add("b"u8, "22"u8); // 35
        Assert.Equal(69, table.Size);
        table.Add("c"u8, "333"u8); // 36: evicts a
        Assert.Equal([("c", "333"), ("b", "22")], table.Entries());
        Assert.Equal(71, table.Size);
        table.SetMaxSize(40);
        Assert.Equal([("c", "333")], table.Entries());
        table.Add(new byte[5], new byte[4]); // 41 > 40: empties the table, adds nothing (section 4.4)
        Assert.Equal(0, table.Count);
        Assert.Equal(0, table.Size);
    }

    [Fact]
    public void A_new_entry_may_reuse_a_name_of_the_entry_it_evicts()
    {
        // Section 4.4: literal with incremental indexing whose name is index 62, the entry being evicted.
        using var decoder = new HpackDecoder(maxHeaderTableSize: 100);
        decoder.DecodeAll(Hex.Bytes("40 08 6162636465666768 01 76"));
        string value = new('x', 27);
        byte[] block = [0x7e, 27, .. System.Text.Encoding.ASCII.GetBytes(value)];
        Assert.Equal([("abcdefgh", value)], decoder.DecodeAll(block));
        Assert.Equal([("abcdefgh", value)], decoder.DynamicTable.Entries());
        Assert.Equal(67, decoder.DynamicTable.Size);
    }

    /// <summary>The ring against a list model: random adds and size changes, every entry compared each step.</summary>
    [Property(MaxTest = 300)]
    public bool Behaves_like_a_list_of_entries(byte[] lengths, int[] resizes)
    {
        lengths ??= [];
        resizes ??= [];
        const int limit = 200;
        using var table = new HpackDynamicTable(limit);
        var model = new List<(string Name, string Value)>();
        int maxSize = limit;
        for (int step = 0; step < lengths.Length; step++)
        {
            if (resizes.Length > 0 && step % 7 == 3)
            {
                maxSize = Math.Abs(resizes[step % resizes.Length] % (limit + 1));
                table.SetMaxSize(maxSize);
                Trim(model, maxSize);
            }

            int nameLength = lengths[step] % 13;
            int valueLength = lengths[step] / 2;
            string name = new((char)('a' + (step % 26)), nameLength);
            string value = new((char)('A' + (step % 26)), valueLength);
            table.Add(System.Text.Encoding.ASCII.GetBytes(name), System.Text.Encoding.ASCII.GetBytes(value));
            if (nameLength + valueLength + 32 > maxSize)
            {
                model.Clear();
            }
            else
            {
                model.Insert(0, (name, value));
                Trim(model, maxSize);
            }

            if (!table.Entries().SequenceEqual(model) || table.Size != Size(model))
            {
                return false;
            }
        }

        return true;
    }

    private static int Size(List<(string Name, string Value)> model) => model.Sum(e => e.Name.Length + e.Value.Length + 32);

    private static void Trim(List<(string Name, string Value)> model, int maxSize)
    {
        while (Size(model) > maxSize)
        {
            model.RemoveAt(model.Count - 1);
        }
    }
}
