// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Command demo-train trains a small neural network on the UCI handwritten
// digits (1,797 8x8 images, embedded) with plain Go and prints its loss and
// accuracy each epoch. It is a real, CPU-bound training workload that runs
// anywhere Go does, for trying carbon-run without a GPU.
//
//	go run ./scripts/demo-train --epochs 150
package main

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"time"
)

//go:embed data/digits.csv.gz
var digitsGzip []byte

const (
	pixels  = 64
	classes = 10
	maxInk  = 16.0 // pixel counts run from 0 to 16
)

type sample struct {
	x     [pixels]float64
	label int
}

func main() {
	epochs := flag.Int("epochs", 150, "number of passes over the training set; sets the run's length")
	hidden := flag.Int("hidden", 256, "units in the hidden layer")
	rate := flag.Float64("learning-rate", 0.05, "SGD learning rate")
	seed := flag.Uint64("seed", 1, "random seed for weights and shuffling")
	flag.Parse()
	if *epochs < 1 || *hidden < 1 || *rate <= 0 {
		fmt.Fprintln(os.Stderr, "demo-train: --epochs and --hidden must be at least 1 and --learning-rate positive")
		os.Exit(2)
	}

	data, err := loadDigits()
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo-train: %v\n", err)
		os.Exit(1)
	}
	rng := rand.New(rand.NewPCG(*seed, 0))
	rng.Shuffle(len(data), func(i, j int) { data[i], data[j] = data[j], data[i] })
	split := len(data) * 4 / 5
	train, test := data[:split], data[split:]

	net := newNetwork(*hidden, rng)
	fmt.Printf("demo-train: %d training and %d test images, %d hidden units, %d epochs\n",
		len(train), len(test), *hidden, *epochs)
	start := time.Now()
	for epoch := 1; epoch <= *epochs; epoch++ {
		rng.Shuffle(len(train), func(i, j int) { train[i], train[j] = train[j], train[i] })
		loss := 0.0
		for i := range train {
			loss += net.step(&train[i], *rate)
		}
		if epoch == 1 || epoch%10 == 0 || epoch == *epochs {
			fmt.Printf("epoch %4d  loss %.4f  test accuracy %.3f  (%s)\n", epoch,
				loss/float64(len(train)), net.accuracy(test), time.Since(start).Round(time.Millisecond))
		}
	}
}

// loadDigits parses the embedded gzip CSV: 64 pixel counts then the label.
func loadDigits() ([]sample, error) {
	zr, err := gzip.NewReader(bytes.NewReader(digitsGzip))
	if err != nil {
		return nil, fmt.Errorf("opening digits data: %w", err)
	}
	r := csv.NewReader(zr)
	r.FieldsPerRecord = pixels + 1
	var out []sample
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading digits data: %w", err)
		}
		var s sample
		for i := 0; i <= pixels; i++ {
			v, err := strconv.ParseFloat(rec[i], 64)
			if err != nil {
				return nil, fmt.Errorf("digits row %d column %d: %w", len(out)+1, i+1, err)
			}
			if i < pixels {
				s.x[i] = v / maxInk
			} else {
				s.label = int(v)
			}
		}
		out = append(out, s)
	}
}

// network is a two-layer perceptron: 64 inputs, a tanh hidden layer and a
// softmax output, trained with per-sample SGD on cross-entropy.
type network struct {
	w1     [][pixels]float64 // hidden x input
	b1     []float64
	w2     [][classes]float64 // hidden x output
	b2     [classes]float64
	h      []float64
	dh     []float64
	logits [classes]float64
}

func newNetwork(hidden int, rng *rand.Rand) *network {
	n := &network{
		w1: make([][pixels]float64, hidden), b1: make([]float64, hidden),
		w2: make([][classes]float64, hidden), h: make([]float64, hidden), dh: make([]float64, hidden),
	}
	scale1, scale2 := 1/math.Sqrt(pixels), 1/math.Sqrt(float64(hidden))
	for j := range hidden {
		for i := range pixels {
			n.w1[j][i] = rng.NormFloat64() * scale1
		}
		for k := range classes {
			n.w2[j][k] = rng.NormFloat64() * scale2
		}
	}
	return n
}

// forward fills the hidden activations and the output probabilities.
func (n *network) forward(x *[pixels]float64) *[classes]float64 {
	n.logits = n.b2
	for j := range n.h {
		a := n.b1[j]
		for i, v := range x {
			a += n.w1[j][i] * v
		}
		n.h[j] = math.Tanh(a)
		for k := range classes {
			n.logits[k] += n.h[j] * n.w2[j][k]
		}
	}
	peak := n.logits[0]
	for _, v := range n.logits {
		peak = max(peak, v)
	}
	sum := 0.0
	for k, v := range n.logits {
		n.logits[k] = math.Exp(v - peak)
		sum += n.logits[k]
	}
	for k := range n.logits {
		n.logits[k] /= sum
	}
	return &n.logits
}

// step trains on one sample and returns its cross-entropy loss.
func (n *network) step(s *sample, rate float64) float64 {
	p := n.forward(&s.x)
	loss := -math.Log(max(p[s.label], 1e-12))

	var dz [classes]float64 // gradient of the loss at the logits
	for k := range classes {
		dz[k] = p[k]
	}
	dz[s.label]--
	for j := range n.h {
		g := 0.0
		for k := range classes {
			g += n.w2[j][k] * dz[k]
			n.w2[j][k] -= rate * dz[k] * n.h[j]
		}
		n.dh[j] = g * (1 - n.h[j]*n.h[j])
	}
	for k := range classes {
		n.b2[k] -= rate * dz[k]
	}
	for j := range n.h {
		for i, v := range s.x {
			n.w1[j][i] -= rate * n.dh[j] * v
		}
		n.b1[j] -= rate * n.dh[j]
	}
	return loss
}

func (n *network) accuracy(set []sample) float64 {
	correct := 0
	for i := range set {
		p := n.forward(&set[i].x)
		best := 0
		for k := range classes {
			if p[k] > p[best] {
				best = k
			}
		}
		if best == set[i].label {
			correct++
		}
	}
	return float64(correct) / float64(len(set))
}
