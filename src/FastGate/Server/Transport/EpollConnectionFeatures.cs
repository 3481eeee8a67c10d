using System.Collections;
using FastGate.Gateway.Transport;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace FastGate.Server.Transport;

/// <summary>
/// An <see cref="EpollConnection"/>'s features. Those the connection implements itself are answered by a type
/// test, with no dictionary entry per connection; what others set (Kestrel adds a few of its own to every
/// connection) goes to a dictionary made at the first set, and takes precedence, a null included, as in
/// <see cref="FeatureCollection"/>.
/// </summary>
internal sealed class EpollConnectionFeatures(EpollConnection connection) : IFeatureCollection
{
    private static readonly Type[] OwnFeatures =
    [
        typeof(IConnectionIdFeature), typeof(IConnectionTransportFeature), typeof(IConnectionItemsFeature),
        typeof(IConnectionLifetimeFeature), typeof(IConnectionEndPointFeature), typeof(IMemoryPoolFeature),
        typeof(IEpollLoopFeature),
    ];

    private Dictionary<Type, object?>? _set;
    private int _revision;

    public bool IsReadOnly => false;

    public int Revision => _revision;

    public object? this[Type key]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(key);
            return _set is not null && _set.TryGetValue(key, out object? value) ? value : Own(key);
        }

        set
        {
            ArgumentNullException.ThrowIfNull(key);
            (_set ??= new Dictionary<Type, object?>(4))[key] = value;
            _revision++;
        }
    }

    public TFeature? Get<TFeature>() => this[typeof(TFeature)] is TFeature feature ? feature : default;

    public void Set<TFeature>(TFeature? instance) => this[typeof(TFeature)] = instance;

    public IEnumerator<KeyValuePair<Type, object>> GetEnumerator()
    {
        foreach (Type type in OwnFeatures)
        {
            if (_set is null || !_set.ContainsKey(type))
            {
                yield return new KeyValuePair<Type, object>(type, connection);
            }
        }

        if (_set is null)
        {
            yield break;
        }

        foreach (var (type, value) in _set)
        {
            if (value is not null)
            {
                yield return new KeyValuePair<Type, object>(type, value);
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private EpollConnection? Own(Type key) => Array.IndexOf(OwnFeatures, key) >= 0 ? connection : null;
}
