/**
 * Throughput of the last minutes (this node's finished and failed actions per second), drawn by
 * uPlot into a canvas. The chart is made once and fed new data; it follows its box's width.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { ThroughputSeries } from '../../src/console/throughput.js';

const PALETTE = ['#2563eb', '#0d9488', '#7c3aed', '#d97706', '#db2777', '#4b5563'];
const HEIGHT = 180;

/** Points of 5 s each: per-second counts are too spiky to read at a glance. */
const BUCKET = 5;

function data(series: ThroughputSeries): uPlot.AlignedData {
  const names = Object.keys(series.queues);
  const first = series.queues[names[0] ?? '']?.finished.length ?? 0;
  const xs: number[] = [];
  const lines: number[][] = names.map(() => []);
  const failed: number[] = [];
  for (let i = first % BUCKET; i + BUCKET <= first; i += BUCKET) {
    xs.push(series.start + i + BUCKET - 1);
    names.forEach((n, k) => lines[k]!.push(sum(series.queues[n]!.finished, i) / BUCKET));
    failed.push(names.reduce((acc, n) => acc + sum(series.queues[n]!.failed, i), 0) / BUCKET);
  }
  return [xs, ...lines, failed];
}

function sum(values: readonly number[], from: number): number {
  let n = 0;
  for (let i = from; i < from + BUCKET; i++) n += values[i] ?? 0;
  return n;
}

export function ThroughputChart({ series }: { series: ThroughputSeries }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const names = Object.keys(series.queues).join('\n');

  useEffect(() => {
    if (!box.current) return;
    const queues = names.split('\n').filter(Boolean);
    const options: uPlot.Options = {
      width: box.current.clientWidth || 600,
      height: HEIGHT,
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] } },
      axes: [
        { stroke: '#6b7280', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e5e7eb' } },
        { stroke: '#6b7280', grid: { stroke: '#eef0f3' }, ticks: { stroke: '#e5e7eb' }, size: 44, label: 'per second', labelSize: 16 },
      ],
      series: [
        {},
        ...queues.map((q, i) => ({ label: `${q} finished`, stroke: PALETTE[i % PALETTE.length]!, width: 2, fill: `${PALETTE[i % PALETTE.length]!}14`, points: { show: false } })),
        { label: 'errors', stroke: '#dc2626', width: 1.5, dash: [4, 3], points: { show: false } },
      ],
    };
    const chart = new uPlot(options, data(series), box.current);
    plot.current = chart;
    const resize = new ResizeObserver(() => box.current && chart.setSize({ width: box.current.clientWidth, height: HEIGHT }));
    resize.observe(box.current);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [names]);

  useEffect(() => {
    plot.current?.setData(data(series));
  }, [series]);

  return <div class="chart" ref={box} />;
}
