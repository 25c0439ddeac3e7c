// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// MaxPlotPoints is the maximum number of points that ReadSamples keeps per
// component. A chart 800 pixels wide shows no more detail than that.
const MaxPlotPoints = 1000

// Series is the power and energy of one component over a run, read back
// from samples.csv.
type Series struct {
	Kind   string
	Name   string
	Index  int
	Method string
	Points []Point
}

// Point is the state of one component at the end of a sampling interval.
type Point struct {
	// ElapsedSeconds is the time since the start of the run.
	ElapsedSeconds float64
	// PowerWatts is the mean power over the interval that ends here.
	PowerWatts float64
	// CumulativeJoules is the energy since the start of the run.
	CumulativeJoules float64
}

// samplesColumns are the samples.csv columns in order.
var samplesColumns = strings.Split(strings.TrimSuffix(samplesHeader, "\n"), ",")

// Column positions in a samples.csv row.
const (
	columnElapsed = iota
	columnKind
	columnName
	columnIndex
	columnMethod
	columnPower
	columnIntervalEnergy
	columnCumulativeEnergy
)

// ReadSamples reads a samples.csv file into one Series per component, in
// the order the components first appear. Each series is downsampled to at
// most MaxPlotPoints points as it is read, as Downsample describes, so
// memory stays bounded however long the run was. An invalid row is an
// error that names its line.
func ReadSamples(path string) ([]Series, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading samples: %w", err)
	}
	defer f.Close()

	series, err := readSamples(f)
	if err != nil {
		return nil, fmt.Errorf("reading samples %s: %w", path, err)
	}
	return series, nil
}

// seriesKey identifies a component in samples.csv.
type seriesKey struct {
	kind, name, method string
	index              int
}

func readSamples(r io.Reader) ([]Series, error) {
	reader := csv.NewReader(r)
	reader.FieldsPerRecord = -1 // until the header is checked
	reader.ReuseRecord = true

	header, err := reader.Read()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("missing header line: the file is empty")
	}
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if got := strings.Join(header, ","); got != strings.Join(samplesColumns, ",") {
		return nil, fmt.Errorf("line 1: header %q is not a samples.csv header, want %q",
			got, strings.Join(samplesColumns, ","))
	}
	reader.FieldsPerRecord = len(samplesColumns)

	var keys []seriesKey
	samplers := map[seriesKey]*downsampler{}
	for {
		record, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A csv.ParseError already names its line.
			return nil, err
		}
		line, _ := reader.FieldPos(0)

		key, point, err := parseSampleRow(record)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		d, ok := samplers[key]
		if !ok {
			d = newDownsampler(MaxPlotPoints)
			samplers[key] = d
			keys = append(keys, key)
		}
		if err := d.add(point); err != nil {
			return nil, fmt.Errorf("line %d: %s %d %q: %w", line, key.kind, key.index, key.name, err)
		}
	}

	series := make([]Series, 0, len(keys))
	for _, key := range keys {
		series = append(series, Series{
			Kind: key.kind, Name: key.name, Index: key.index, Method: key.method,
			Points: samplers[key].points(),
		})
	}
	return series, nil
}

// parseSampleRow checks one samples.csv record and converts its numbers.
func parseSampleRow(record []string) (seriesKey, Point, error) {
	key := seriesKey{kind: record[columnKind], name: record[columnName], method: record[columnMethod]}
	if key.kind == "" {
		return key, Point{}, errors.New("missing kind")
	}
	if key.method == "" {
		return key, Point{}, errors.New("missing method")
	}
	index, err := strconv.Atoi(record[columnIndex])
	if err != nil {
		return key, Point{}, fmt.Errorf("invalid index %q: %w", record[columnIndex], numError(err))
	}
	key.index = index

	var values [3]float64
	for i, column := range []int{columnElapsed, columnPower, columnCumulativeEnergy} {
		v, err := strconv.ParseFloat(record[column], 64)
		if err != nil {
			return key, Point{}, fmt.Errorf("invalid %s %q: %w", samplesColumns[column], record[column], numError(err))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return key, Point{}, fmt.Errorf("invalid %s %q: want a finite number of at least 0",
				samplesColumns[column], record[column])
		}
		values[i] = v
	}
	point := Point{ElapsedSeconds: values[0], PowerWatts: values[1], CumulativeJoules: values[2]}
	return key, point, nil
}

// numError drops the "strconv.ParseFloat: parsing ..." prefix, which repeats
// the value the caller already names.
func numError(err error) error {
	var numErr *strconv.NumError
	if errors.As(err, &numErr) {
		return numErr.Err
	}
	return err
}

// Downsample reduces points to at most maxPoints for plotting. It keeps the
// first and last points and replaces each run of points in between with one
// point at the run's end, whose power is the time-weighted mean power of the
// run. A plot that holds each power over the interval before its point, as
// samples.csv defines it, therefore has the same area (energy) as the full
// series. Points are returned unchanged when they already fit. maxPoints
// below 3 is treated as 3.
func Downsample(points []Point, maxPoints int) []Point {
	if len(points) <= maxPoints {
		return points
	}
	d := newDownsampler(maxPoints)
	for _, p := range points {
		// add drops a point earlier than the one before it. ReadSamples
		// rejects such input, so only a caller's own points can hit this.
		_ = d.add(p)
	}
	return d.points()
}

// downsampler reduces a stream of points to at most maxBuckets+2 points
// with bounded memory. Every bucket contains the same number of points.
// When there are more than maxBuckets buckets, neighbours are merged in
// pairs, and each bucket takes twice as many points from then on.
type downsampler struct {
	maxBuckets      int
	pointsPerBucket int

	first, last *Point
	buckets     []bucket
}

// bucket is a run of consecutive points that is plotted as one.
type bucket struct {
	count int
	// spanSeconds is the time from the previous point to the bucket's last.
	spanSeconds float64
	// energyJoules is the sum of each point's power times its interval.
	energyJoules float64
	// powerSumWatts is the plain sum of power, for a bucket that spans no
	// time because its points share one timestamp.
	powerSumWatts float64
	end           Point
}

func newDownsampler(maxPoints int) *downsampler {
	return &downsampler{maxBuckets: max(maxPoints, 3) - 2, pointsPerBucket: 1}
}

// add appends p, which must not be earlier than the point before it.
func (d *downsampler) add(p Point) error {
	if d.first == nil {
		d.first = &p
		return nil
	}
	prev := d.first
	if d.last != nil {
		prev = d.last
	}
	if p.ElapsedSeconds < prev.ElapsedSeconds {
		return fmt.Errorf("elapsed_seconds %g is earlier than the previous row's %g",
			p.ElapsedSeconds, prev.ElapsedSeconds)
	}

	// The previous last point now lies between first and last, so it goes
	// into a bucket. Its interval starts at the point before it.
	if d.last != nil {
		d.addToBucket(*d.last, d.last.ElapsedSeconds-d.beforeLast().ElapsedSeconds)
	}
	d.last = &p
	return nil
}

// beforeLast returns the point that precedes d.last.
func (d *downsampler) beforeLast() Point {
	if n := len(d.buckets); n > 0 {
		return d.buckets[n-1].end
	}
	return *d.first
}

func (d *downsampler) addToBucket(p Point, intervalSeconds float64) {
	n := len(d.buckets)
	if n == 0 || d.buckets[n-1].count == d.pointsPerBucket {
		d.buckets = append(d.buckets, bucket{})
		n++
	}
	b := &d.buckets[n-1]
	b.count++
	b.spanSeconds += intervalSeconds
	b.energyJoules += p.PowerWatts * intervalSeconds
	b.powerSumWatts += p.PowerWatts
	b.end = p

	if len(d.buckets) > d.maxBuckets {
		d.mergePairs()
	}
}

// mergePairs halves the number of buckets by merging neighbours.
func (d *downsampler) mergePairs() {
	merged := d.buckets[:0]
	for i := 0; i < len(d.buckets); i += 2 {
		b := d.buckets[i]
		if i+1 < len(d.buckets) {
			next := d.buckets[i+1]
			b.count += next.count
			b.spanSeconds += next.spanSeconds
			b.energyJoules += next.energyJoules
			b.powerSumWatts += next.powerSumWatts
			b.end = next.end
		}
		merged = append(merged, b)
	}
	d.buckets = merged
	d.pointsPerBucket *= 2
}

// points returns the first point, one point per bucket and the last point.
func (d *downsampler) points() []Point {
	if d.first == nil {
		return nil
	}
	out := make([]Point, 0, len(d.buckets)+2)
	out = append(out, *d.first)
	for _, b := range d.buckets {
		p := b.end
		if b.spanSeconds > 0 {
			p.PowerWatts = b.energyJoules / b.spanSeconds
		} else {
			p.PowerWatts = b.powerSumWatts / float64(b.count)
		}
		out = append(out, p)
	}
	if d.last != nil {
		out = append(out, *d.last)
	}
	return out
}
