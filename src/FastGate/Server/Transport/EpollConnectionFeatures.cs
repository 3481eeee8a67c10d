using System.Collections;
using FastGate.Gateway.Transport;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace FastGate.Server.Transport;

/// <summary>
/// An <see cref="EpollConnection"/>'s features. Those the connection implements itself are answered by a type
/// test, with no dictionary entry per connection; what others set takes precedence, a null included, as in
/// <see cref="FeatureCollection"/>. Kestrel sets four of its own on every connection (heartbeat, completion,
/// close notification, metrics context): they go to four slots in this object, and only a fifth feature makes
/// a dictionary (which cost 176 B of every idle connection).
/// </summary>
internal sealed class EpollConnectionFeatures(EpollConnection connection) : IFeatureCollection
{
    private static readonly Type[] OwnFeatures =
    [
        typeof(IConnectionIdFeature), typeof(IConnectionTransportFeature), typeof(IConnectionItemsFeature),
        typeof(IConnectionLifetimeFeature), typeof(IConnectionEndPointFeature), typeof(IMemoryPoolFeature),
        typeof(IEpollLoopFeature),
    ];

    private SetSlots _slots;
    private Dictionary<Type, object?>? _more;
    private int _revision;

    public bool IsReadOnly => false;

    public int Revision => _revision;

    public object? this[Type key]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(key);
            return TryGetSet(key, out object? value) ? value : Own(key);
        }

        set
        {
            ArgumentNullException.ThrowIfNull(key);
            Store(key, value);
            _revision++;
        }
    }

    public TFeature? Get<TFeature>() => this[typeof(TFeature)] is TFeature feature ? feature : default;

    public void Set<TFeature>(TFeature? instance) => this[typeof(TFeature)] = instance;

    public IEnumerator<KeyValuePair<Type, object>> GetEnumerator()
    {
        foreach (Type type in OwnFeatures)
        {
            if (!TryGetSet(type, out _))
            {
                yield return new KeyValuePair<Type, object>(type, connection);
            }
        }

        for (int i = 0; i < SetSlots.Length; i++)
        {
            if (_slots[i].Value is { } value)
            {
                yield return new KeyValuePair<Type, object>(_slots[i].Type!, value);
            }
        }

        if (_more is null)
        {
            yield break;
        }

        foreach (var (type, value) in _more)
        {
            if (value is not null)
            {
                yield return new KeyValuePair<Type, object>(type, value);
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private EpollConnection? Own(Type key) => Array.IndexOf(OwnFeatures, key) >= 0 ? connection : null;

    private bool TryGetSet(Type key, out object? value)
    {
        for (int i = 0; i < SetSlots.Length; i++)
        {
            if (ReferenceEquals(_slots[i].Type, key))
            {
                value = _slots[i].Value;
                return true;
            }
        }

        value = null;
        return _more is not null && _more.TryGetValue(key, out value);
    }

    private void Store(Type key, object? value)
    {
        for (int i = 0; i < SetSlots.Length; i++)
        {
            if (_slots[i].Type is null || ReferenceEquals(_slots[i].Type, key))
            {
                _slots[i] = new SetFeature(key, value);
                return;
            }
        }

        (_more ??= new Dictionary<Type, object?>(4))[key] = value;
    }

    private readonly record struct SetFeature(Type? Type, object? Value);

    [System.Runtime.CompilerServices.InlineArray(Length)]
    private struct SetSlots
    {
        public const int Length = 4;

        private SetFeature _element;
    }
}
