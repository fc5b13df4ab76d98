// Round trip through cloud-connector with the AWS SDK for Go v1 (Debian's
// golang-github-aws-aws-sdk-go-dev) and its default settings: signed payloads
// (x-amz-content-sha256 = hex SHA-256 of the body) with Content-MD5 on every
// seekable upload (no additional checksums), s3manager for multipart.
//
//	go run roundtrip.go ENDPOINT BUCKET PREFIX
//
// Built offline by test/integration/test_sdks.py in GOPATH mode:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o DIR/roundtrip roundtrip.go
//
// Prints one JSON line (what was stored, what the SDK sent, the failures) and
// exits 1 if anything did not match.
package main

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/awserr"
	"github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/request"
	"github.com/aws/aws-sdk-go/aws/session"
	"github.com/aws/aws-sdk-go/service/s3"
	"github.com/aws/aws-sdk-go/service/s3/s3manager"
)

type object struct {
	Size  int    `json:"size"`
	MD5   string `json:"md5"`
	ETag  string `json:"etag"`
	Parts int    `json:"parts,omitempty"`
}

var (
	failures []string
	objects  = map[string]object{}
	sent     = map[string][]map[string]string{}
	hex64    = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func fail(format string, a ...interface{}) { failures = append(failures, fmt.Sprintf(format, a...)) }

func check(what string, ok bool, format string, a ...interface{}) {
	if !ok {
		fail("%s: %s", what, fmt.Sprintf(format, a...))
	}
}

func errText(err error) string {
	if rf, ok := err.(awserr.RequestFailure); ok {
		return fmt.Sprintf("%s: %s (HTTP %d)", rf.Code(), rf.Message(), rf.StatusCode())
	}
	return err.Error()
}

// record keeps what the SDK puts on the wire, once per distinct header set.
func record(r *request.Request) {
	h := map[string]string{}
	for k, v := range r.HTTPRequest.Header {
		lk := strings.ToLower(k)
		val := strings.Join(v, ",")
		switch {
		case lk == "x-amz-content-sha256" && hex64.MatchString(val):
			if val == emptySHA256 {
				val = "<sha256 of empty body>"
			} else {
				val = "<sha256 of body>"
			}
		case lk == "content-md5" || (strings.HasPrefix(lk, "x-amz-checksum-") && lk != "x-amz-checksum-mode"):
			val = "<value>"
		case lk == "x-amz-content-sha256" || lk == "content-encoding" || lk == "x-amz-trailer" ||
			lk == "x-amz-te" || lk == "x-amz-sdk-checksum-algorithm" || lk == "x-amz-checksum-mode" ||
			lk == "transfer-encoding" || lk == "expect":
		default:
			continue
		}
		h[lk] = val
	}
	if len(r.HTTPRequest.TransferEncoding) > 0 {
		h["transfer-encoding"] = strings.Join(r.HTTPRequest.TransferEncoding, ",")
	}
	sig, _ := json.Marshal(h)
	for _, seen := range sent[r.Operation.Name] {
		if s, _ := json.Marshal(seen); string(s) == string(sig) {
			return
		}
	}
	sent[r.Operation.Name] = append(sent[r.Operation.Name], h)
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: roundtrip ENDPOINT BUCKET PREFIX")
		os.Exit(2)
	}
	endpoint, bucket, prefix := os.Args[1], os.Args[2], os.Args[3]
	sess := session.Must(session.NewSession(&aws.Config{
		Endpoint:         aws.String(endpoint),
		Region:           aws.String("us-east-1"),
		S3ForcePathStyle: aws.Bool(true),
		Credentials:      credentials.NewStaticCredentials("test:tester", "testing", ""),
		MaxRetries:       aws.Int(0), // the answer the connector gave, not a retry of it
	}))
	sess.Handlers.Send.PushFront(record)
	svc := s3.New(sess)

	get := func(key string, rng string) ([]byte, *s3.GetObjectOutput, error) {
		in := &s3.GetObjectInput{Bucket: &bucket, Key: &key}
		if rng != "" {
			in.Range = &rng
		}
		out, err := svc.GetObject(in)
		if err != nil {
			return nil, nil, err
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		return b, out, err
	}
	verifyGet := func(key string, want []byte, etag string) {
		got, out, err := get(key, "")
		if err != nil {
			fail("GetObject %s: %s", key, errText(err))
			return
		}
		check("GetObject "+key, bytes.Equal(got, want), "got %d bytes md5 %s, want %d md5 %s", len(got), md5hex(got), len(want), md5hex(want))
		if etag != "" {
			check("GetObject ETag "+key, aws.StringValue(out.ETag) == etag, "%s != %s", aws.StringValue(out.ETag), etag)
		}
	}
	put := func(name, key string, body io.ReadSeeker, want []byte, contentType string, meta map[string]*string) {
		in := &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: body, Metadata: meta}
		if contentType != "" {
			in.ContentType = &contentType
		}
		out, err := svc.PutObject(in)
		if err != nil {
			fail("%s: %s", name, errText(err))
			return
		}
		etag := aws.StringValue(out.ETag)
		check(name+" ETag", etag == `"`+md5hex(want)+`"`, "%s", etag)
		objects[key] = object{Size: len(want), MD5: md5hex(want), ETag: etag}
		verifyGet(key, want, etag)
	}

	text := fmt.Sprintf("hello from aws-sdk-go v1, %s: ünïcödé ✓\n", prefix)
	strKey, bufKey := prefix+"/string.txt", prefix+"/bytes.bin"
	copyKey, mpuKey := prefix+"/copy of bytes.bin", prefix+"/multipart.bin"
	buf := make([]byte, 300*1024+17)
	big := make([]byte, 12*1024*1024+12345)
	rand.Read(buf)
	rand.Read(big)
	const part = 5 * 1024 * 1024

	put("PutObject string", strKey, strings.NewReader(text), []byte(text), "text/plain; charset=utf-8", nil)
	put("PutObject bytes", bufKey, bytes.NewReader(buf), buf, "", map[string]*string{"Origin": aws.String("sdk-go")})

	if h, err := svc.HeadObject(&s3.HeadObjectInput{Bucket: &bucket, Key: &bufKey}); err != nil {
		fail("HeadObject: %s", errText(err))
	} else {
		check("HeadObject ContentLength", aws.Int64Value(h.ContentLength) == int64(len(buf)), "%d", aws.Int64Value(h.ContentLength))
		check("HeadObject ETag", aws.StringValue(h.ETag) == `"`+md5hex(buf)+`"`, "%s", aws.StringValue(h.ETag))
		check("HeadObject Metadata", aws.StringValue(h.Metadata["Origin"]) == "sdk-go", "%v", h.Metadata)
	}

	if c, err := svc.CopyObject(&s3.CopyObjectInput{Bucket: &bucket, Key: &copyKey,
		CopySource: aws.String(bucket + "/" + url.PathEscape(bufKey))}); err != nil {
		fail("CopyObject: %s", errText(err))
	} else {
		etag := aws.StringValue(c.CopyObjectResult.ETag)
		check("CopyObject ETag", etag == `"`+md5hex(buf)+`"`, "%s", etag)
		objects[copyKey] = object{Size: len(buf), MD5: md5hex(buf), ETag: etag}
		verifyGet(copyKey, buf, "")
	}

	// Multipart through s3manager: 3 parts (5 MiB, 5 MiB, rest), 3 at a time.
	up := s3manager.NewUploaderWithClient(svc, func(u *s3manager.Uploader) { u.PartSize = part; u.Concurrency = 3 })
	if _, err := up.Upload(&s3manager.UploadInput{Bucket: &bucket, Key: &mpuKey, Body: bytes.NewReader(big)}); err != nil {
		fail("s3manager Upload: %s", errText(err))
	} else {
		var sums []byte
		n := 0
		for i := 0; i < len(big); i += part {
			end := i + part
			if end > len(big) {
				end = len(big)
			}
			s := md5.Sum(big[i:end])
			sums = append(sums, s[:]...)
			n++
		}
		whole := md5.Sum(sums)
		want := fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(whole[:]), n)
		h, err := svc.HeadObject(&s3.HeadObjectInput{Bucket: &bucket, Key: &mpuKey})
		if err != nil {
			fail("HeadObject multipart: %s", errText(err))
		} else {
			check("multipart ETag", aws.StringValue(h.ETag) == want, "%s != %s", aws.StringValue(h.ETag), want)
			objects[mpuKey] = object{Size: len(big), MD5: md5hex(big), ETag: aws.StringValue(h.ETag), Parts: n}
		}
		verifyGet(mpuKey, big, want)
		a, b := part-100, part+99
		got, out, err := get(mpuKey, fmt.Sprintf("bytes=%d-%d", a, b))
		if err != nil {
			fail("GetObject Range: %s", errText(err))
		} else {
			check("GetObject Range bytes", bytes.Equal(got, big[a:b+1]), "len %d md5 %s", len(got), md5hex(got))
			wantRange := fmt.Sprintf("bytes %d-%d/%d", a, b, len(big))
			check("GetObject Range ContentRange", aws.StringValue(out.ContentRange) == wantRange, "%s", aws.StringValue(out.ContentRange))
		}
	}

	// ListObjectsV2, two keys a page.
	var listed []string
	pages := 0
	err := svc.ListObjectsV2Pages(&s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String(prefix + "/"), MaxKeys: aws.Int64(2)},
		func(p *s3.ListObjectsV2Output, last bool) bool {
			pages++
			for _, o := range p.Contents {
				k := aws.StringValue(o.Key)
				listed = append(listed, k)
				if want, ok := objects[k]; ok {
					check("List size "+k, aws.Int64Value(o.Size) == int64(want.Size), "%d", aws.Int64Value(o.Size))
					check("List ETag "+k, aws.StringValue(o.ETag) == want.ETag, "%s != %s", aws.StringValue(o.ETag), want.ETag)
				}
			}
			return true
		})
	if err != nil {
		fail("ListObjectsV2Pages: %s", errText(err))
	}
	var expected []string
	for k := range objects {
		expected = append(expected, k)
	}
	sort.Strings(expected)
	check("ListObjectsV2 keys", strings.Join(listed, "|") == strings.Join(expected, "|"), "%v != %v", listed, expected)
	check("ListObjectsV2 pages", pages == (len(expected)+1)/2, "%d pages", pages)

	// DeleteObjects: two throw-away keys and one that never existed.
	doomed := []string{prefix + "/doomed-1", prefix + "/doomed 2+"}
	var deleted []string
	for _, k := range doomed {
		if _, err := svc.PutObject(&s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			fail("PutObject %s: %s", k, errText(err))
		}
	}
	var ids []*s3.ObjectIdentifier
	for _, k := range append(append([]string{}, doomed...), prefix+"/never-existed") {
		ids = append(ids, &s3.ObjectIdentifier{Key: aws.String(k)})
	}
	if r, err := svc.DeleteObjects(&s3.DeleteObjectsInput{Bucket: &bucket, Delete: &s3.Delete{Objects: ids}}); err != nil {
		fail("DeleteObjects: %s", errText(err))
	} else {
		var keys []string
		for _, d := range r.Deleted {
			keys = append(keys, aws.StringValue(d.Key))
		}
		sort.Strings(keys)
		want := []string{prefix + "/doomed 2+", prefix + "/doomed-1", prefix + "/never-existed"}
		check("DeleteObjects Deleted", strings.Join(keys, "|") == strings.Join(want, "|"), "%v", keys)
		check("DeleteObjects Errors", len(r.Errors) == 0, "%v", r.Errors)
		for _, k := range doomed {
			_, err := svc.HeadObject(&s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(k)})
			rf, ok := err.(awserr.RequestFailure)
			check("HeadObject after delete "+k, ok && rf.StatusCode() == 404, "%v", err)
		}
		deleted = doomed
	}

	out, _ := json.Marshal(map[string]interface{}{
		"sdk": "aws-sdk-go " + aws.SDKVersion, "bucket": bucket, "prefix": prefix, "objects": objects,
		"deleted": deleted, "listed": listed, "pages": pages, "sent": sent, "failures": failures,
	})
	fmt.Println(string(out))
	if len(failures) > 0 {
		os.Exit(1)
	}
}
