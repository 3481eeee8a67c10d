using System.Buffers;
using System.Text;
using FastGate.Protocols.Hpack;

namespace FastGate.Protocols.Tests.Hpack;

public class HpackDecoderTests
{
    [Theory]
    [InlineData("80", nameof(HpackDecodingError.InvalidIndex))] // indexed field, index 0
    [InlineData("be", nameof(HpackDecodingError.InvalidIndex))] // index 62 with an empty dynamic table
    [InlineData("ff80 01", nameof(HpackDecodingError.InvalidIndex))] // index 255: past both tables
    [InlineData("7e 0161", nameof(HpackDecodingError.InvalidIndex))] // literal whose name index 62 does not exist
    [InlineData("0f30 0161", nameof(HpackDecodingError.InvalidIndex))] // without indexing, name index 63
    [InlineData("ffff ffff ff0f", nameof(HpackDecodingError.IntegerOverflow))] // past 2^31 - 1
    [InlineData("ff80 8080 8080 00", nameof(HpackDecodingError.IntegerOverflow))] // six continuation octets
    [InlineData("3fe2 1f", nameof(HpackDecodingError.TableSizeUpdateTooLarge))] // size update to 4096 + 1
    [InlineData("82 20", nameof(HpackDecodingError.TableSizeUpdateNotAtStart))] // size update after a field
    [InlineData("4003 6162 63ff ffff ffff ff", nameof(HpackDecodingError.IntegerOverflow))] // value length overflow
    [InlineData("4082 1fff 0161", nameof(HpackDecodingError.InvalidHuffman))] // Huffman name with 11 bits of padding
    [InlineData("0001 6184 ffff ffff", nameof(HpackDecodingError.InvalidHuffman))] // Huffman value holding EOS
    [InlineData("0001 6181 18", nameof(HpackDecodingError.InvalidHuffman))] // padding not all ones
    [InlineData("4003 6162", nameof(HpackDecodingError.IncompleteHeaderBlock))] // block ends inside a literal
    [InlineData("ff", nameof(HpackDecodingError.IncompleteHeaderBlock))] // block ends inside an integer
    public void Rejects_malformed_blocks_with_a_compression_error(string hex, string expected)
    {
        using var decoder = new HpackDecoder();
        var error = Assert.Throws<HpackDecodingException>(() => decoder.DecodeAll(Hex.Bytes(hex)));
        Assert.Equal(expected, error.Error.ToString());
    }

    [Fact]
    public void Rejects_a_string_over_the_limit_before_its_bytes_arrive()
    {
        using var decoder = new HpackDecoder(maxStringLength: 16);
        var handler = new RecordingHeaderHandler();

        // Literal name of length 17: only the length prefix is present.
        var error = Assert.Throws<HpackDecodingException>(() => decoder.Decode(new ReadOnlySequence<byte>(Hex.Bytes("4011")), endHeaders: false, ref handler));
        Assert.Equal(HpackDecodingError.StringTooLong, error.Error);

        using var exact = new HpackDecoder(maxStringLength: 16);
        byte[] block = [0x00, 0x10, .. Encoding.ASCII.GetBytes("abcdefghijklmnop"), 0x01, (byte)'v'];
        Assert.Equal([("abcdefghijklmnop", "v")], exact.DecodeAll(block));
    }

    [Fact]
    public void Rejects_a_huffman_string_decoding_past_the_limit()
    {
        // 10 octets of '0' codes (5 bits each) decode to 16 characters; the limit is 12.
        using var decoder = new HpackDecoder(maxStringLength: 12);
        byte[] block = [0x00, 0x01, (byte)'n', 0x8A, .. new byte[10]];
        var error = Assert.Throws<HpackDecodingException>(() => decoder.DecodeAll(block));
        Assert.Equal(HpackDecodingError.StringTooLong, error.Error);
    }

    [Fact]
    public void Applies_size_updates_at_the_start_of_a_block_and_evicts()
    {
        using var decoder = new HpackDecoder();
        decoder.DecodeAll(Hex.Bytes("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
        Assert.Equal(55, decoder.DynamicTable.Size);

        // Two updates (to 0, then 4096) at the start of the next block empty the table, then index 62 is invalid.
        Assert.Equal([(":method", "GET")], decoder.DecodeAll(Hex.Bytes("20 3fe1 1f 82")));
        Assert.Equal(0, decoder.DynamicTable.Count);
        Assert.Equal(4096, decoder.DynamicTable.MaxSize);
        Assert.Throws<HpackDecodingException>(() => decoder.DecodeAll(Hex.Bytes("be")));
    }

    [Fact]
    public void A_size_update_split_across_fragments_still_counts_as_the_block_start()
    {
        using var decoder = new HpackDecoder();
        var handler = new RecordingHeaderHandler();
        decoder.Decode(new ReadOnlySequence<byte>(Hex.Bytes("3f")), endHeaders: false, ref handler);
        decoder.Decode(new ReadOnlySequence<byte>(Hex.Bytes("e1 0f 82")), endHeaders: true, ref handler);
        Assert.Equal(2048, decoder.DynamicTable.MaxSize);
        Assert.Equal([(":method", "GET")], handler.Headers);

        // A size update in a CONTINUATION after a field of the same block is not at its start.
        var second = new RecordingHeaderHandler();
        decoder.Decode(new ReadOnlySequence<byte>(Hex.Bytes("82")), endHeaders: false, ref second);
        var error = Assert.Throws<HpackDecodingException>(() => decoder.Decode(new ReadOnlySequence<byte>(Hex.Bytes("20")), endHeaders: true, ref second));
        Assert.Equal(HpackDecodingError.TableSizeUpdateNotAtStart, error.Error);
    }

    [Fact]
    public void A_header_list_over_the_limit_throws_at_the_end_of_the_block_and_keeps_the_table_in_step()
    {
        // Each field: 10 + 12 + 32 = 54 octets; the limit admits one.
        using var decoder = new HpackDecoder(maxHeaderListSize: 100);
        byte[] block = Hex.Bytes("400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65 be be");
        var handler = new RecordingHeaderHandler();
        Assert.Throws<HpackHeaderListTooLargeException>(() => decoder.Decode(new ReadOnlySequence<byte>(block), endHeaders: true, ref handler));
        Assert.Equal([("custom-key", "custom-value")], handler.Headers);
        Assert.Equal([("custom-key", "custom-value")], decoder.DynamicTable.Entries());

        // The next block decodes normally against the same table.
        Assert.Equal([("custom-key", "custom-value")], decoder.DecodeAll(Hex.Bytes("be")));
    }

    [Fact]
    public void An_hpack_bomb_hits_the_list_limit_without_allocating()
    {
        using var decoder = new HpackDecoder(maxHeaderTableSize: 4096, maxHeaderListSize: 16 * 1024);

        // Block 1 puts a 4000-octet value in the dynamic table; block 2 names it 4096 times (4 KiB of
        // input, 16 MiB of header list).
        byte[] value = new byte[4000];
        value.AsSpan().Fill((byte)'v');
        var first = new byte[8 + value.Length];
        first[0] = 0x40;
        first[1] = 0x01;
        first[2] = (byte)'x';
        int pos = 3 + HpackInteger.Encode(value.Length, 7, 0, first.AsSpan(3));
        value.CopyTo(first, pos);
        var warmup = new CountingHeaderHandler();
        decoder.Decode(new ReadOnlySequence<byte>(first, 0, pos + value.Length), endHeaders: true, ref warmup);
        Assert.Equal(1, warmup.Count);

        byte[] bomb = new byte[4096];
        bomb.AsSpan().Fill(0xBE);
        var sequence = new ReadOnlySequence<byte>(bomb);
        var handler = new CountingHeaderHandler();
        long before = GC.GetAllocatedBytesForCurrentThread();
        HpackHeaderListTooLargeException? caught = null;
        try
        {
            decoder.Decode(sequence, endHeaders: true, ref handler);
        }
        catch (HpackHeaderListTooLargeException e)
        {
            caught = e;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.NotNull(caught);
        Assert.Equal(4, handler.Count); // 4 x 4033 octets fit in 16 KiB, the fifth does not
        Assert.True(allocated < 8 * 1024, $"allocated {allocated} bytes"); // the exception and its stack trace only
    }

    [Fact]
    public void A_steady_state_block_allocates_nothing()
    {
        using var decoder = new HpackDecoder();
        decoder.DecodeAll(Hex.Bytes("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"));
        var sequence = new ReadOnlySequence<byte>(Hex.Bytes("8287 85be 0088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"));
        var handler = new CountingHeaderHandler();
        decoder.Decode(sequence, endHeaders: true, ref handler);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            decoder.Decode(sequence, endHeaders: true, ref handler);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(505, handler.Count);
    }

    [Fact]
    public void A_field_cut_by_a_fragment_may_not_grow_past_the_largest_field()
    {
        using var decoder = new HpackDecoder(maxHeaderListSize: 64, maxStringLength: 8);

        // A literal name of 8 octets is fine; nine would be rejected at its length prefix, so an endless
        // run of CONTINUATION octets cannot be buffered.
        var handler = new RecordingHeaderHandler();
        decoder.Decode(new ReadOnlySequence<byte>(Hex.Bytes("0008 6162")), endHeaders: false, ref handler);
        decoder.Decode(new ReadOnlySequence<byte>(Hex.Bytes("6364")), endHeaders: false, ref handler);
        decoder.Decode(new ReadOnlySequence<byte>(Hex.Bytes("6566 6768 0176")), endHeaders: true, ref handler);
        Assert.Equal([("abcdefgh", "v")], handler.Headers);

        var next = new RecordingHeaderHandler();
        decoder.Decode(new ReadOnlySequence<byte>(Hex.Bytes("00")), endHeaders: false, ref next);
        var error = Assert.Throws<HpackDecodingException>(() => decoder.Decode(new ReadOnlySequence<byte>(Hex.Bytes("09")), endHeaders: false, ref next));
        Assert.Equal(HpackDecodingError.StringTooLong, error.Error);
    }
}
