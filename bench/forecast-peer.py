#!/usr/bin/env python3
"""Writes test/fixtures/forecast/series.json: the forecast benchmark's series, their held-out points, and the
forecasts of the peer, statsmodels' ETS (additive errors; AIC-selected among no/additive/damped trend and no/additive
season, told each series' season length), so the benchmark and the unit tests run without Python.

    python3 bench/forecast-peer.py        # needs numpy, pandas and statsmodels

Each series' last h points are held out. `group` says how a series was used: 'development' series were looked at
while the selection rule was built; 'added' series were only scored once the rule was fixed.
"""
import json, os, warnings
import numpy as np, pandas as pd
import statsmodels.api as sm
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

warnings.filterwarnings('ignore')
OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'forecast', 'series.json')


def development():
    co2 = sm.datasets.co2.load_pandas().data['co2'].resample('MS').mean().interpolate()
    yield 'co2 monthly', co2.iloc[-240:], 12, 24
    el = sm.datasets.elnino.load_pandas().data.set_index('YEAR').stack().astype(float)
    el.index = pd.date_range('1950-01-01', periods=len(el), freq='MS')
    yield 'elnino monthly', el, 12, 24
    macro = sm.datasets.macrodata.load_pandas().data
    quarters = pd.date_range('1959-01-01', periods=len(macro), freq='QS')
    yield 'realgdp quarterly', pd.Series(macro['realgdp'].values, index=quarters), 4, 8
    yield 'cpi quarterly', pd.Series(macro['cpi'].values, index=quarters), 4, 8
    nile = sm.datasets.nile.load_pandas().data
    yield 'nile yearly', pd.Series(nile['volume'].values.astype(float), index=pd.date_range('1871-01-01', periods=len(nile), freq='YS')), 1, 10
    ss = sm.datasets.sunspots.load_pandas().data
    yield 'sunspots yearly', pd.Series(ss['SUNACTIVITY'].values, index=pd.date_range('1700-01-01', periods=len(ss), freq='YS')), 11, 22
    rng = np.random.default_rng(3)
    t = np.arange(24 * 60)
    y = 20 + 0.002 * t + 3 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 0.5, len(t))
    yield 'sensor hourly (generated: trend + daily cycle)', pd.Series(y, index=pd.date_range('2026-01-01', periods=len(t), freq='h')), 24, 48


def added():
    macro = sm.datasets.macrodata.load_pandas().data
    quarters = pd.date_range('1959-01-01', periods=len(macro), freq='QS')
    for col in ['unemp', 'm1', 'tbilrate', 'realinv']:
        yield f'{col} quarterly', pd.Series(macro[col].values.astype(float), index=quarters), 4, 8
    rng = np.random.default_rng(12)
    t = np.arange(168)
    y = (100 + 1.5 * t) * (1 + 0.25 * np.sin(2 * np.pi * t / 12)) * np.exp(rng.normal(0, 0.03, len(t)))
    yield 'multiplicative season monthly (generated)', pd.Series(y, index=pd.date_range('2010-01-01', periods=len(t), freq='MS')), 12, 24
    t = np.arange(150)
    noise = np.zeros(len(t))
    for i in range(1, len(t)):
        noise[i] = 0.5 * noise[i - 1] + rng.normal(0, 1.5)
    y = 100 + 60 * (1 - 0.97 ** t) + noise
    yield 'damped trend weekly (generated)', pd.Series(y, index=pd.date_range('2020-01-06', periods=len(t), freq='W-MON')), 1, 20
    y = 50 + np.cumsum(rng.normal(0, 1, 500))
    yield 'random walk daily (generated)', pd.Series(y, index=pd.date_range('2024-01-01', periods=500, freq='D')), 7, 14
    y = np.where(rng.random(400) < 0.2, rng.poisson(4, 400) + 1, 0).astype(float)
    yield 'intermittent daily (generated)', pd.Series(y, index=pd.date_range('2024-01-01', periods=400, freq='D')), 7, 14
    t = np.arange(96 * 14)
    y = 60 + 8 * np.sin(2 * np.pi * t / 96) + 3 * np.cos(4 * np.pi * t / 96) - 0.004 * t + rng.normal(0, 1, len(t))
    yield 'sensor 15-minute (generated: daily cycle, slow drift)', pd.Series(y, index=pd.date_range('2026-02-01', periods=len(t), freq='15min')), 96, 96


def peer(train, m, h):
    """statsmodels ETS, AIC-selected as in the issue's measurement."""
    best = None
    for trend in [None, 'add']:
        for damped in ([False] if trend is None else [False, True]):
            for seas in ([None] if m == 1 else [None, 'add']):
                try:
                    fit = ETSModel(train, error='add', trend=trend, damped_trend=damped, seasonal=seas, seasonal_periods=m if seas else None).fit(disp=False)
                except Exception:
                    continue
                if best is None or fit.aic < best[0].aic:
                    best = (fit, ('A', 'Ad' if damped else ('A' if trend else 'N'), 'A' if seas else 'N'))
    frame = best[0].get_prediction(start=len(train), end=len(train) + h - 1).summary_frame(alpha=0.05)
    return 'ETS(%s,%s,%s)' % best[1], frame['mean'].values, frame['pi_lower'].values, frame['pi_upper'].values


def round_list(a):
    return [float('%.8g' % v) for v in a]


def step_of(index):
    """Calendar months (and quarters, years) are not a fixed number of milliseconds: name them."""
    freq = pd.infer_freq(index)
    if freq in ('MS',):
        return {'months': 1}
    if freq in ('QS', 'QS-JAN', 'QS-OCT'):
        return {'months': 3}
    if freq in ('YS', 'YS-JAN', 'AS-JAN'):
        return {'months': 12}
    return {'ms': int((index[1] - index[0]) / pd.Timedelta(milliseconds=1))}


rows = []
for group, source in [('development', development()), ('added', added())]:
    for name, s, m, h in source:
        train, test = s.iloc[:-h], s.iloc[-h:]
        model, mean, lower, upper = peer(train, m, h)
        rows.append({
            'name': name, 'group': group, 'season': m, 'horizon': h,
            'start': train.index[0].strftime('%Y-%m-%dT%H:%M:%SZ'), 'step': step_of(s.index),
            'train': round_list(train.values), 'test': round_list(test.values),
            'peer': {'model': model, 'mean': round_list(mean), 'lower': round_list(lower), 'upper': round_list(upper)},
        })
        print(name, len(train), h, model)
with open(OUT, 'w') as f:
    json.dump({'peer': 'statsmodels %s ETSModel' % sm.__version__, 'series': rows}, f, separators=(',', ':'))
print('wrote', OUT)
