// Turns a map file of echarts 4.x (`map/json/province/*.json`: GeoJSON whose
// rings are compressed as "UTF8Encoding" strings) into plain GeoJSON, so the
// dashboard ships a standard file any GIS tool opens. One-off: the output is
// checked in as web/src/geo/guangdong.json (see web/src/geo/README.md).
//
//   mkdir /tmp/e4 && cd /tmp/e4 && npm pack echarts@4.9.0 && tar xzf echarts-4.9.0.tgz
//   node web/scripts/decode-echarts4-map.mjs /tmp/e4/package/map/json/province/guangdong.json > web/src/geo/guangdong.json
//
// The decoding is echarts 4's own (src/coord/geo/parseGeoJson.js, Apache-2.0):
// each ring is pairs of characters, code - 64, zigzag-decoded, delta-decoded
// from the ring's encodeOffsets, divided by UTF8Scale (1024 by default).
import { readFileSync } from 'node:fs';

const source = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const scale = source.UTF8Scale ?? 1024;
/** Degrees to 4 decimals (about 10 m): finer than the source's 1/1024 degree steps. */
const round = (v) => Math.round(v * 1e4) / 1e4;

function decodeRing(text, [x0, y0]) {
  const ring = [];
  let x = x0;
  let y = y0;
  for (let i = 0; i < text.length; i += 2) {
    let dx = text.charCodeAt(i) - 64;
    let dy = text.charCodeAt(i + 1) - 64;
    dx = (dx >> 1) ^ -(dx & 1);
    dy = (dy >> 1) ^ -(dy & 1);
    x += dx;
    y += dy;
    ring.push([round(x / scale), round(y / scale)]);
  }
  // GeoJSON rings are closed: first position = last position.
  const [first, last] = [ring[0], ring[ring.length - 1]];
  if (first[0] !== last[0] || first[1] !== last[1]) ring.push([...first]);
  return ring;
}

if (!source.UTF8Encoding) throw new Error('not an echarts 4 UTF8Encoding map file');
const features = source.features.map((f) => {
  const { type, coordinates, encodeOffsets } = f.geometry;
  const decoded =
    type === 'Polygon'
      ? coordinates.map((ring, r) => decodeRing(ring, encodeOffsets[r]))
      : coordinates.map((polygon, p) => polygon.map((ring, r) => decodeRing(ring, encodeOffsets[p][r])));
  return {
    type: 'Feature',
    id: f.id,
    properties: { adcode: f.id, name: f.properties.name, center: f.properties.cp },
    geometry: { type, coordinates: decoded },
  };
});
process.stdout.write(JSON.stringify({ type: 'FeatureCollection', features }) + '\n');
