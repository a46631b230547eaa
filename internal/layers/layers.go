// Package layers holds the test that keeps galaxy's imports running
// downward (layers_test.go): each package has a layer, and a package may
// import only packages of lower layers. The table there is the
// architecture as the README's Layout section draws it.
package layers
