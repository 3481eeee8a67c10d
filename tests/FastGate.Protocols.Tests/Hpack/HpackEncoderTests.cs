using System.Buffers;
using System.Text;
using FastGate.Protocols.Hpack;
using FsCheck.Xunit;

namespace FastGate.Protocols.Tests.Hpack;

public class HpackEncoderTests
{
    [Fact]
    public void Repeated_response_headers_become_one_octet_each()
    {
        using var encoder = new HpackEncoder();
        (string, string)[] head = [(":status", "200"), ("content-type", "application/json"), ("server", "fastgate"), ("cache-control", "no-store")];
        byte[] first = encoder.EncodeBlock(head);
        byte[] second = encoder.EncodeBlock(head);
        Assert.True(first.Length > 20);
        Assert.Equal("88c0 bfbe".Replace(" ", ""), Hex.Of(second));
    }

    [Fact]
    public void Sensitive_fields_are_never_indexed()
    {
        using var encoder = new HpackEncoder(useHuffman: false);
        byte[] block = encoder.EncodeBlock(("authorization", "Bearer x"), ("set-cookie", "a=b"), ("cookie", "c=d"), ("x-secret-free", "1"));

        // 0001 + name index 23 (15 + 8), 0001 + 55 (15 + 40), 0001 + 32 (15 + 17), then an indexed literal.
        Assert.StartsWith("1f08084265617265722078" + "1f2803613d62" + "1f1103633d64" + "40", Hex.Of(block));
        Assert.Equal([("x-secret-free", "1")], encoder.DynamicTable.Entries());
    }

    [Fact]
    public void Content_length_is_not_indexed()
    {
        using var encoder = new HpackEncoder(useHuffman: false);
        Assert.Equal("0f0d 0231 32".Replace(" ", ""), Hex.Of(encoder.EncodeBlock(("content-length", "12"))));
        Assert.Equal(0, encoder.DynamicTable.Count);
    }

    [Fact]
    public void A_smaller_peer_table_is_announced_at_the_next_block_start()
    {
        using var encoder = new HpackEncoder(useHuffman: false);
        encoder.EncodeBlock(("x-a", "1"));
        encoder.SetPeerHeaderTableSize(0);
        encoder.SetPeerHeaderTableSize(100);
        Assert.Equal(0, encoder.DynamicTable.Count);

        // Section 4.2: the smallest size (0), then the final one (100 = 31 + 69).
        byte[] block = encoder.EncodeBlock(("x-a", "1"));
        Assert.Equal("20 3f45 40 0378 2d61 0131".Replace(" ", ""), Hex.Of(block));

        using var decoder = new HpackDecoder();
        decoder.DecodeAll(Hex.Bytes("4003 782d 6101 31"));
        Assert.Equal([("x-a", "1")], decoder.DecodeAll(block));
        Assert.Equal(100, decoder.DynamicTable.MaxSize);
    }

    [Fact]
    public void An_encoder_capped_below_the_peer_default_announces_its_size_first()
    {
        using var encoder = new HpackEncoder(headerTableSize: 4096, maxHeaderTableSize: 1024, useHuffman: false);
        byte[] block = encoder.EncodeBlock((":status", "200"));
        Assert.Equal("3fe1 07 88".Replace(" ", ""), Hex.Of(block));
        Assert.Equal("88", Hex.Of(encoder.EncodeBlock((":status", "200"))));
    }

    [Fact]
    public void Warm_encoding_allocates_nothing()
    {
        using var encoder = new HpackEncoder();
        var output = new ArrayBufferWriter<byte>(4096);
        byte[] name = Encoding.ASCII.GetBytes("content-type");
        byte[] value = Encoding.ASCII.GetBytes("application/json");
        encoder.EncodeHeader(name, value, output);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            output.ResetWrittenCount();
            encoder.BeginHeaderBlock(output);
            encoder.EncodeHeader(":status"u8, "200"u8, output);
            encoder.EncodeHeader(name, value, output);
            encoder.EncodeHeader("content-length"u8, "1234"u8, output);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>Random header lists over several blocks of one connection, with a small table to force evictions.</summary>
    [Property(MaxTest = 300)]
    public bool Header_lists_round_trip_through_encoder_and_decoder(byte[][] values, int[] picks, bool huffman, bool smallTable)
    {
        string[] names = [":status", "content-type", "set-cookie", "content-length", "x-custom", "date", ""];
        values = values is { Length: > 0 } ? values : [[]];
        picks ??= [];
        int tableSize = smallTable ? 128 : 4096;
        using var encoder = new HpackEncoder(headerTableSize: tableSize, useHuffman: huffman);
        using var decoder = new HpackDecoder(maxHeaderTableSize: tableSize, maxHeaderListSize: 1 << 20);
        for (int block = 0; block < 3; block++)
        {
            var expected = new List<(string, string)>();
            for (int i = 0; i < picks.Length; i++)
            {
                int pick = Math.Abs(picks[i] % 1000);
                byte[] value = values[(pick + block) % values.Length] ?? [];
                expected.Add((names[pick % names.Length], Encoding.Latin1.GetString(value)));
            }

            byte[] encoded = encoder.EncodeBlock([.. expected]);
            if (!expected.SequenceEqual(decoder.DecodeAll(encoded)) || !encoder.DynamicTable.Entries().SequenceEqual(decoder.DynamicTable.Entries()))
            {
                return false;
            }
        }

        return true;
    }
}
