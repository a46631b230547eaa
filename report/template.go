package report

import "html/template"

// pageTemplate is the report page. Everything it needs is inside it: the
// style sheet inline, pictures as data URIs, no script, no link to anywhere
// outside the page (the table of contents points at the page's own
// sections).
var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
  body { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif; color: #1d2731; background: #fff;
         margin: 0 auto; padding: 18px 20px 48px; max-width: 1240px; font-size: 15px; line-height: 1.45; }
  h1 { font-size: 26px; margin: 6px 0 2px; }
  h2 { font-size: 20px; margin: 34px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #dde3ea; }
  h3 { font-size: 16px; margin: 18px 0 6px; }
  .sub { color: #5b6773; margin: 0 0 14px; }
  nav { font-size: 14px; margin: 8px 0 4px; }
  nav a { color: #1f5f99; margin-right: 14px; text-decoration: none; }
  .cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 14px 0; }
  .card { background: #f1f5f9; border-radius: 8px; padding: 10px 14px; min-width: 130px; }
  .card .v { font-size: 22px; font-weight: bold; }
  .card .k { font-size: 13px; color: #5b6773; }
  table { border-collapse: collapse; margin: 8px 0 12px; font-size: 14px; }
  th, td { padding: 4px 12px 4px 0; text-align: left; border-bottom: 1px solid #e6ebf0; vertical-align: top; }
  th { color: #5b6773; font-weight: normal; }
  td.n, th.n { text-align: right; padding-left: 12px; }
  td.nw { white-space: nowrap; }
  .bar { display: inline-block; height: 10px; background: #1f77b4; vertical-align: middle; margin-right: 6px; }
  .row { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
  .row > div { flex: 1 1 360px; min-width: 340px; }
  figure { margin: 6px 0; }
  img.chart { max-width: 100%; height: auto; border: 1px solid #eef1f4; }
  .note { color: #5b6773; font-size: 14px; max-width: 760px; }
  .tiles { display: flex; flex-wrap: wrap; gap: 10px; }
  .tiles { gap: 8px; }
  .tile { width: 134px; font-size: 12px; line-height: 1.3; }
  .tile img { image-rendering: pixelated; display: block; width: 128px; height: 128px; border: 3px solid #2ca02c; border-radius: 3px; }
  .tile.wrong img { border-color: #d62728; }
  .tile .l0 { font-weight: bold; }
  .tile div { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .settings td:first-child { color: #5b6773; padding-right: 18px; white-space: nowrap; }
  .flags { columns: 3 260px; font-size: 13px; color: #3a4652; }
  footer { margin-top: 40px; color: #8a96a3; font-size: 12px; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="sub">{{.Subtitle}} · written {{.Written}}</p>
<nav><a href="#settings">Settings</a><a href="#curves">Learning curves</a><a href="#confusion">Confusion</a><a href="#classes">Per class</a><a href="#topk">Top-k</a><a href="#calibration">Calibration</a><a href="#pr">Precision-recall</a><a href="#correct">Correct examples</a><a href="#mistakes">Worst mistakes</a></nav>

<div class="cards">
{{range .Summary}}<div class="card"><div class="v">{{.Value}}</div><div class="k">{{.Key}}</div></div>
{{end}}</div>

<h2 id="settings">Settings</h2>
<div class="row">
<div><h3>Model and data</h3>
<table class="settings">
{{range .Settings}}<tr><td>{{.Key}}</td><td>{{.Value}}</td></tr>
{{end}}</table></div>
{{if .Run}}<div><h3>Training run (metrics.json)</h3>
<table class="settings">
{{range .Run}}<tr><td>{{.Key}}</td><td>{{.Value}}</td></tr>
{{end}}</table></div>{{end}}
</div>
{{if .Flags}}<h3>Settings of the run</h3>
<div class="flags">{{range .Flags}}<div>{{.Key}} {{.Value}}</div>{{end}}</div>{{end}}

<h2 id="curves">Learning curves</h2>
{{if .NoCurve}}<p class="note">{{.NoCurve}}</p>{{else}}<div class="row">
<figure><img class="chart" src="{{.Accuracy.URI}}" width="{{.Accuracy.W}}" height="{{.Accuracy.H}}" alt="{{.Accuracy.Alt}}"></figure>
<figure><img class="chart" src="{{.Loss.URI}}" width="{{.Loss.W}}" height="{{.Loss.H}}" alt="{{.Loss.Alt}}"></figure>
</div>{{end}}

<h2 id="confusion">Confusion matrix</h2>
<div class="row">
<figure><img class="chart" src="{{.Confusion.URI}}" width="{{.Confusion.W}}" height="{{.Confusion.H}}" alt="{{.Confusion.Alt}}"></figure>
<div>
<h3>Most confused pairs</h3>
{{if .Pairs}}<table>
<tr><th>true class</th><th>predicted as</th><th class="n">images</th><th class="n">share of class</th><th class="n">share of mistakes</th></tr>
{{range .Pairs}}<tr><td class="nw">{{index . 0}}</td><td class="nw">{{index . 1}}</td><td class="n">{{index . 2}}</td><td class="n">{{index . 3}}</td><td class="n">{{index . 4}}</td></tr>
{{end}}</table>{{else}}<p class="note">No mistakes.</p>{{end}}
<p class="note">Rows of the matrix are true classes, columns predicted ones; each cell gives the number of
images and their share of the true class, so the diagonal is each class's recall.</p>
</div>
</div>

<h2 id="classes">Per class</h2>
<table>
<tr><th>class</th><th class="n">precision</th><th class="n">recall</th><th class="n">F1</th><th class="n">avg precision</th><th class="n">images</th><th class="n">predicted</th><th>recall</th></tr>
{{range .Classes}}<tr><td>{{.Name}}</td><td class="n">{{.Precision}}</td><td class="n">{{.Recall}}</td><td class="n">{{.F1}}</td><td class="n">{{.AP}}</td><td class="n">{{.Support}}</td><td class="n">{{.Predicted}}</td><td><span class="bar" style="width: {{.RecallPct}}px"></span>{{.RecallPct}}%</td></tr>
{{end}}</table>
<p class="note">Precision: of the images predicted as the class, the share that are; recall: of the images of the
class, the share found; F1: their harmonic mean. Balanced accuracy is the mean recall.</p>

<h2 id="topk">Top-k: how far down is the true class?</h2>
<div class="row">
<figure><img class="chart" src="{{.TopKChart.URI}}" width="{{.TopKChart.W}}" height="{{.TopKChart.H}}" alt="{{.TopKChart.Alt}}"></figure>
<div>
<table>
<tr><th>k</th><th class="n">true class among the top k</th><th class="n">images with the true class ranked k</th></tr>
{{range .TopK}}<tr><td>{{index . 0}}</td><td class="n">{{index . 1}}</td><td class="n">{{index . 2}}</td></tr>
{{end}}</table>
<p class="note">Of the {{.Wrong}} misclassified images, the second choice was the true class for {{.SecondRight}} ({{.SecondPct}}).</p>
</div>
</div>

<h2 id="calibration">Calibration</h2>
<div class="row">
<figure><img class="chart" src="{{.Reliability.URI}}" width="{{.Reliability.W}}" height="{{.Reliability.H}}" alt="{{.Reliability.Alt}}"></figure>
{{with .ReliabilityRaw}}<figure><img class="chart" src="{{.URI}}" width="{{.W}}" height="{{.H}}" alt="{{.Alt}}"><figcaption>The same model before its temperature scaling (T = {{$.Temperature}}, fitted on the validation part).</figcaption></figure>
{{end}}<div>
<table>
<tr><th>confidence</th><th class="n">images</th><th class="n">mean confidence</th><th class="n">fraction correct</th><th class="n">gap</th></tr>
{{range .Bins}}<tr><td>{{index . 0}}</td><td class="n">{{index . 1}}</td><td class="n">{{index . 2}}</td><td class="n">{{index . 3}}</td><td class="n">{{index . 4}}</td></tr>
{{end}}</table>
<p class="note">Confidence is the probability the model gives its top-ranked class. The images are put into
{{.NBins}} equal-width confidence bins; the expected calibration error is the mean, weighted by the number of images
in each bin, of |fraction correct − mean confidence|: ECE = {{.ECE}} (largest gap in a bin {{.MCE}}). A
perfectly calibrated model is right 80% of the time when it says 0.8, and its bars reach the diagonal.</p>
</div>
</div>

<h2 id="pr">Precision and recall by class</h2>
<figure><img class="chart" src="{{.PR.URI}}" width="{{.PR.W}}" height="{{.PR.H}}" alt="{{.PR.Alt}}"><figcaption>Each class's images ranked by the model's probability of the class: a point is the recall and precision of calling the class at one threshold. AP is the area under the curve.</figcaption></figure>

<h2 id="correct">What it gets right</h2>
<p class="note">For each class, the correctly classified images of the {{.SplitName}} split the model was most sure of
(p: the probability of the predicted class). Hover a picture for every class's probability.</p>
{{range .Correct}}<h3>{{.Name}} <span class="note">— {{.Note}}</span></h3>
<div class="tiles">{{range .Tiles}}<div class="tile"><img src="{{.Pic.URI}}" width="{{.Pic.W}}" height="{{.Pic.H}}" alt="{{.Pic.Alt}}" title="{{.Tooltip}}">{{range $i, $l := .Lines}}<div class="l{{$i}}">{{$l}}</div>{{end}}</div>
{{end}}</div>
{{end}}

<h2 id="mistakes">Worst mistakes</h2>
{{if .Worst}}<p class="note">The {{.WorstN}} misclassified images the model was most confident about: true class, predicted class
with its probability, and the second choice (✓ when it was the true class).</p>
<div class="tiles">{{range .Worst}}<div class="tile wrong"><img src="{{.Pic.URI}}" width="{{.Pic.W}}" height="{{.Pic.H}}" alt="{{.Pic.Alt}}" title="{{.Tooltip}}">{{range $i, $l := .Lines}}<div class="l{{$i}}">{{$l}}</div>{{end}}</div>
{{end}}</div>{{else}}<p class="note">No mistakes on this split.</p>{{end}}

<footer>Written by galaxy report. Self-contained: every picture is embedded in this file.</footer>
</body>
</html>
`))
