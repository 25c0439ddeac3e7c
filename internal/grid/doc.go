// SPDX-License-Identifier: Apache-2.0
// Copyright The carbonrun Authors

// Package grid turns a region into the carbon intensity of its electricity
// grid, in grams of CO2-equivalent per kWh, and a power usage effectiveness
// (PUE) for the facility. Both come from tables embedded in the binary
// (data/*.csv), and each row carries its source and data year.
// data/PROVENANCE.md lists where every table came from and how to refresh
// it.
//
// Regions are ISO 3166-1 alpha-2 countries ("FR"), ISO 3166-2 subdivisions
// ("US-CA"), the world average ("WORLD") and cloud regions written with
// their provider ("aws:us-east-1", "gcp:europe-west4", "azure:westeurope").
//
// Resolve can ask an Electricity Maps compatible API for the latest
// intensity of a region. It never uses the network to guess where the
// machine is. Without a region it uses the world average and adds a warning.
package grid
