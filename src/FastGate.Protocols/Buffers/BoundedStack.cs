using System.Diagnostics.CodeAnalysis;

namespace FastGate.Protocols.Buffers;

/// <summary>
/// A fixed-capacity LIFO of pooled objects for one thread's cache: the most recently returned (warmest)
/// item goes out first, and a push beyond the capacity is refused so the caller hands the item to its
/// shared pool instead. A mutable struct: keep it in a non-readonly field and call it in place.
/// </summary>
internal struct BoundedStack<T>(int capacity)
    where T : class
{
    private readonly T?[] _items = new T?[capacity];
    private int _count;

    public bool TryPop([NotNullWhen(true)] out T? item)
    {
        if (_count == 0)
        {
            item = null;
            return false;
        }

        item = _items[--_count]!;
        _items[_count] = null;
        return true;
    }

    public bool TryPush(T item)
    {
        // A default instance (no capacity yet) holds nothing.
        if (_items is null || _count == _items.Length)
        {
            return false;
        }

        _items[_count++] = item;
        return true;
    }
}
