// Annotation elements <-> OpenLayers features. Map y = -pixel y.
import Feature from 'ol/Feature';
import Circle from 'ol/geom/Circle';
import type Geometry from 'ol/geom/Geometry';
import LineString from 'ol/geom/LineString';
import MultiLineString from 'ol/geom/MultiLineString';
import Point from 'ol/geom/Point';
import Polygon from 'ol/geom/Polygon';
import { arrowHead, ellipsePoints, fitRectangle, isShape, rectangleCorners, type XY } from '../lib/geometry';
import { parseColor } from '../lib/mask';
import type { AnnotationElement, ShapeElement } from '../types';

export type ToolName = 'point' | 'rectangle' | 'ellipse' | 'circle' | 'polygon' | 'freehand' | 'arrow';

export const DEFAULT_STYLE = { lineColor: '#00d4ff', fillColor: 'rgba(0, 212, 255, 0.15)', lineWidth: 2 };

const toMap = ([x, y]: number[]): number[] => [x, -y];
const toPixel = ([x, y]: number[]): number[] => [x, y === 0 ? 0 : -y, 0];
const ring = (pts: XY[]): number[][] => {
  const r = pts.map(toMap);
  if (r.length) r.push([...r[0]]);
  return r;
};

/** Display geometry (WebGL-friendly: circles and ellipses become polygons). */
export function elementGeometry(el: AnnotationElement, forEditing = false): Geometry | null {
  switch (el.type) {
    case 'point':
      return new Point(toMap(el.center));
    case 'circle': {
      const [x, y] = el.center;
      return forEditing ? new Circle(toMap(el.center), el.radius) : new Polygon([ring(ellipsePoints(x, y, el.radius * 2, el.radius * 2, 0, 48))]);
    }
    case 'rectangle':
    case 'rectanglegrid':
      return new Polygon([ring(rectangleCorners(el.center[0], el.center[1], el.width, el.height, el.rotation ?? 0))]);
    case 'ellipse':
      return new Polygon([ring(ellipsePoints(el.center[0], el.center[1], el.width, el.height, el.rotation ?? 0))]);
    case 'polyline': {
      if (!el.points || el.points.length < 2) return null;
      if (el.closed) {
        const rings = [ring(el.points as XY[]), ...(el.holes ?? []).map((hole) => ring(hole as XY[]))];
        return new Polygon(rings);
      }
      return new LineString(el.points.map(toMap));
    }
    case 'arrow': {
      if (!el.points || el.points.length < 2) return null;
      const [a, b] = el.points as XY[];
      if (forEditing) return new LineString([toMap(a), toMap(b)]);
      const [w1, w2] = arrowHead(a, b);
      return new MultiLineString([[toMap(a), toMap(b)], [toMap(w1), toMap(b), toMap(w2)]]);
    }
    default:
      return null;
  }
}

/** Colour as [r, g, b, a] with alpha 0-1, the form WebGL styles read. */
export function colorArray(color: string | undefined, fallback: string): number[] {
  return parseColor(color ?? fallback, parseColor(fallback));
}

/** A feature for an element; its id is the element id and it carries style properties. */
export function elementFeature(el: AnnotationElement, forEditing = false): Feature | null {
  const geometry = elementGeometry(el, forEditing);
  if (!geometry) return null;
  const f = new Feature({ geometry });
  if (el.id) f.setId(el.id);
  f.set('element', el, true);
  setStyleProps(f, el);
  return f;
}

/** Copy an element's colours onto a feature as plain properties for WebGL expressions. */
export function setStyleProps(f: Feature, el: AnnotationElement): void {
  const closed = el.type !== 'point' && el.type !== 'arrow' && !(el.type === 'polyline' && !el.closed);
  const style: ElementKeep = isShape(el) ? el : {};
  f.setProperties({
    stroke: colorArray(style.lineColor, DEFAULT_STYLE.lineColor),
    fill: closed || el.type === 'point' ? colorArray(style.fillColor, el.type === 'point' ? style.lineColor ?? DEFAULT_STYLE.lineColor : 'rgba(0,0,0,0)') : [0, 0, 0, 0],
    width: Math.max(0.5, style.lineWidth ?? DEFAULT_STYLE.lineWidth),
  }, true);
}

/** What an edited or drawn element keeps: its identity, group, label and line style. */
export type ElementKeep = Pick<ShapeElement, 'id' | 'group' | 'label' | 'user' | 'lineColor' | 'lineWidth' | 'fillColor'>;
const KEPT = ['id', 'group', 'label', 'user', 'lineColor', 'lineWidth', 'fillColor'] as const;

function copyField<K extends keyof ElementKeep>(to: ElementKeep, from: ElementKeep, key: K): void {
  if (from[key] !== undefined) to[key] = from[key];
}

/** Round pixel coordinates to 1/100 px; drawing produces long floats. */
const r2 = (v: number) => Math.round(v * 100) / 100;
const pix = (c: number[]): number[] => toPixel(c).map(r2);

/**
 * The element a geometry describes, keeping the identity and style of
 * `base`. A rectangle whose vertices were dragged out of shape, or an
 * edited ellipse, becomes a closed polyline.
 */
export function geometryToElement(base: ElementKeep & { type: AnnotationElement['type'] }, geometry: Geometry): AnnotationElement {
  const keep: ElementKeep = {};
  for (const k of KEPT) copyField(keep, base, k);
  if (geometry instanceof Point) return { ...keep, type: 'point', center: pix(geometry.getCoordinates()) };
  if (geometry instanceof Circle) {
    return { ...keep, type: 'circle', center: pix(geometry.getCenter()), radius: r2(geometry.getRadius()) };
  }
  if (geometry instanceof LineString) {
    const pts = geometry.getCoordinates().map(pix);
    if (base.type === 'arrow') return { ...keep, type: 'arrow', points: pts.slice(0, 2) };
    return { ...keep, type: 'polyline', closed: false, points: pts };
  }
  if (geometry instanceof Polygon) {
    const rings = geometry.getCoordinates().map((rg) => rg.slice(0, -1).map(pix));
    if (base.type === 'rectangle' && rings.length === 1) {
      const fit = fitRectangle(rings[0].map((p) => [p[0], p[1]] as XY), 1e-3);
      if (fit) {
        return { ...keep, type: 'rectangle', center: [r2(fit.center[0]), r2(fit.center[1]), 0], width: r2(fit.width), height: r2(fit.height), rotation: fit.rotation };
      }
    }
    const el: AnnotationElement = { ...keep, type: 'polyline', closed: true, points: rings[0] };
    if (rings.length > 1) el.holes = rings.slice(1);
    return el;
  }
  throw new Error('Unsupported geometry');
}

/** The element for a freshly drawn geometry with the current tool and style. */
export function drawnElement(tool: ToolName, geometry: Geometry, style: ElementKeep): AnnotationElement {
  const base = { ...style, type: 'polyline' as const };
  switch (tool) {
    case 'point':
      return geometryToElement({ ...base, type: 'point' }, geometry);
    case 'circle':
      return geometryToElement({ ...base, type: 'circle' }, geometry);
    case 'rectangle':
      return geometryToElement({ ...base, type: 'rectangle' }, geometry);
    case 'ellipse': {
      const ext = geometry.getExtent();
      return {
        ...base,
        type: 'ellipse',
        center: [r2((ext[0] + ext[2]) / 2), r2(-(ext[1] + ext[3]) / 2), 0],
        width: r2(ext[2] - ext[0]),
        height: r2(ext[3] - ext[1]),
        rotation: 0,
      };
    }
    case 'arrow':
      return geometryToElement({ ...base, type: 'arrow' }, geometry);
    case 'polygon':
      return geometryToElement({ ...base, type: 'polyline' }, geometry);
    case 'freehand':
      return geometryToElement({ ...base, type: 'polyline' }, geometry);
    default:
      throw new Error(`Unknown tool ${tool as string}`);
  }
}

/** Human name of an element for lists and undo labels. */
export function elementName(el: AnnotationElement): string {
  if (el.type === 'polyline') return el.closed ? 'polygon' : 'line';
  return el.type;
}
