using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FastGate.Protocols.Buffers;
using FastGate.Protocols.Http1;
using FastGate.Protocols.Text;

namespace FastGate.Protocols.Tests.Http1;

public sealed class Http1HeadStoreTests
{
    [Fact]
    public void Recycle_keeps_the_initial_buffer_for_the_next_head_and_forgets_the_last_one()
    {
        var store = new Http1HeadStore();
        store.Begin(64 * 1024);
        store.AddField("Host"u8, "a.example"u8, KnownHeader.Host);
        ref byte first = ref MemoryMarshal.GetReference(store.Slice(0, 1));

        store.Recycle();
        Assert.Equal(0, store.FieldCount);
        store.Begin(64 * 1024);
        Assert.Equal(HeadBufferPool.InitialSize, store.Reserve(0).Length);
        int index = store.AddField("Accept"u8, "*/*"u8, KnownHeader.Unknown);

        Assert.True(Unsafe.AreSame(ref first, ref MemoryMarshal.GetReference(store.Slice(0, 1))));
        Assert.Equal(0, index);
        Assert.Equal("Accept"u8.ToArray(), store.Name(0).ToArray());
        Assert.Equal("*/*"u8.ToArray(), store.Value(0).ToArray());
    }

    [Fact]
    public void Recycle_gives_back_a_buffer_and_a_field_table_grown_for_a_large_head()
    {
        var store = new Http1HeadStore();
        store.Begin(64 * 1024);
        var value = new byte[10_000];
        value.AsSpan().Fill((byte)'v');
        store.AddField("X-Large"u8, value, KnownHeader.Unknown);
        for (int i = 0; i < 40; i++)
        {
            store.AddField("X-Many"u8, "1"u8, KnownHeader.Unknown);
        }

        Assert.True(store.Reserve(0).Length + 10_000 > HeadBufferPool.InitialSize);
        ref byte grown = ref MemoryMarshal.GetReference(store.Slice(0, 1));

        store.Recycle();
        store.Begin(64 * 1024);

        // A fresh buffer of the initial size, not the grown one.
        Assert.Equal(HeadBufferPool.InitialSize, store.Reserve(0).Length);
        Assert.False(Unsafe.AreSame(ref grown, ref MemoryMarshal.GetReference(store.Reserve(0))));
        for (int i = 0; i < 41; i++)
        {
            Assert.Equal(i, store.AddField("X-Again"u8, "2"u8, KnownHeader.Unknown));
        }

        Assert.Equal("X-Again"u8.ToArray(), store.Name(40).ToArray());
        store.Release();
    }
}
