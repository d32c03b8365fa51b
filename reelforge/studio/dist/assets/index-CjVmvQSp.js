import{a as c,j as e,c as Y}from"./client-BbmPAhWg.js";import{c as X}from"./client-wkOhMJXj.js";const Z=["UNAUTHENTICATED","FORBIDDEN","NOT_FOUND","BAD_USER_INPUT","CONFLICT","RATE_LIMITED","BUDGET_EXCEEDED","PAYLOAD_TOO_LARGE","UNSUPPORTED_MEDIA_TYPE","SERVICE_UNAVAILABLE","INTERNAL_SERVER_ERROR"];function ee(t){return typeof t=="string"&&Z.includes(t)}class j extends Error{name="ReelforgeError";code;extensions;path;status;constructor(s,r,o={}){super(r,o.cause===void 0?void 0:{cause:o.cause}),this.code=s,this.extensions=o.extensions??{},this.path=o.path,this.status=o.status}get retryAfter(){const s=this.extensions.retryAfter;return typeof s=="number"?s:void 0}static fromGraphQL(s){const r=s.extensions?.code;return new j(ee(r)?r:"INTERNAL_SERVER_ERROR",s.message,{extensions:s.extensions??{},...s.path?{path:s.path}:{}})}}function P(t){if(t instanceof j)return t;if(t instanceof Error&&t.name==="AbortError")return new j("ABORTED","the request was aborted",{cause:t});const s=t instanceof Error?t.message:String(t);return new j("NETWORK_ERROR",s,{cause:t})}class y extends String{__apiType;value;__meta__;constructor(s,r){super(s),this.value=s,this.__meta__=r}toString(){return this.value}}new y(`
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  loudnessLufs
  truePeakDb
  url
}
    `,{fragmentName:"AssetFields"});new y(`
    fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  narration
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
  voiceOver {
    ...AssetFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  loudnessLufs
  truePeakDb
  url
}`,{fragmentName:"SceneFields"});new y(`
    fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  loudnessLufs
  truePeakDb
  url
}`,{fragmentName:"ExportFields"});new y(`
    fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  voice
  language
  captions
  music
  musicAssetId
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  captionsVtt {
    ...AssetFields
  }
  captionsSrt {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  loudnessLufs
  truePeakDb
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  narration
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
  voiceOver {
    ...AssetFields
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}`,{fragmentName:"JobFields"});const te=new y(`
    mutation CreateJob($input: CreateJobInput!) {
  createJob(input: $input) {
    ...JobFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  loudnessLufs
  truePeakDb
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  narration
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
  voiceOver {
    ...AssetFields
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  voice
  language
  captions
  music
  musicAssetId
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  captionsVtt {
    ...AssetFields
  }
  captionsSrt {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}`),se=new y(`
    mutation UploadAsset($file: Upload!) {
  uploadAsset(file: $file) {
    ...AssetFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  loudnessLufs
  truePeakDb
  url
}`),re=new y(`
    mutation RefineScene($jobId: ID!, $sceneIndex: Int!, $input: RefineSceneInput!) {
  refineScene(jobId: $jobId, sceneIndex: $sceneIndex, input: $input) {
    ...JobFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  loudnessLufs
  truePeakDb
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  narration
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
  voiceOver {
    ...AssetFields
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  voice
  language
  captions
  music
  musicAssetId
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  captionsVtt {
    ...AssetFields
  }
  captionsSrt {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}`),oe=new y(`
    mutation ApproveStoryboard($jobId: ID!) {
  approveStoryboard(jobId: $jobId) {
    ...JobFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  loudnessLufs
  truePeakDb
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  narration
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
  voiceOver {
    ...AssetFields
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  voice
  language
  captions
  music
  musicAssetId
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  captionsVtt {
    ...AssetFields
  }
  captionsSrt {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}`),ae=new y(`
    mutation RenderVideo($jobId: ID!) {
  renderVideo(jobId: $jobId) {
    ...JobFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  loudnessLufs
  truePeakDb
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  narration
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
  voiceOver {
    ...AssetFields
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  voice
  language
  captions
  music
  musicAssetId
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  captionsVtt {
    ...AssetFields
  }
  captionsSrt {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}`),ne=new y(`
    mutation ExportVideo($jobId: ID!, $input: ExportVideoInput!) {
  exportVideo(jobId: $jobId, input: $input) {
    ...ExportFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  loudnessLufs
  truePeakDb
  url
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}`),ie=new y(`
    mutation CancelJob($jobId: ID!) {
  cancelJob(jobId: $jobId) {
    ...JobFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  loudnessLufs
  truePeakDb
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  narration
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
  voiceOver {
    ...AssetFields
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  voice
  language
  captions
  music
  musicAssetId
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  captionsVtt {
    ...AssetFields
  }
  captionsSrt {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}`),le=new y(`
    mutation RetryJob($jobId: ID!) {
  retryJob(jobId: $jobId) {
    ...JobFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  loudnessLufs
  truePeakDb
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  narration
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
  voiceOver {
    ...AssetFields
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  voice
  language
  captions
  music
  musicAssetId
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  captionsVtt {
    ...AssetFields
  }
  captionsSrt {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}`),K=new y(`
    query Job($id: ID!) {
  job(id: $id) {
    ...JobFields
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  loudnessLufs
  truePeakDb
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  narration
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
  voiceOver {
    ...AssetFields
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  voice
  language
  captions
  music
  musicAssetId
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  captionsVtt {
    ...AssetFields
  }
  captionsSrt {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}`),de=new y(`
    query Jobs($first: Int!, $after: String, $status: JobStatus) {
  jobs(first: $first, after: $after, status: $status) {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      cursor
      node {
        id
        status
        stage
        progress
        brief
        aspectRatio
        sceneCount
        actualCost
        estimatedCost
        createdAt
        thumbnail {
          id
          url
        }
      }
    }
  }
}
    `),ce=new y(`
    query Viewer {
  viewer {
    clientId
    userId
    spendToday
    dailyBudget
    budgetRemaining
  }
}
    `);new y(`
    query Models {
  models {
    kind
    provider
    model
    estimatedCost
  }
}
    `);const ue=new y(`
    query Voices($language: String) {
  voices(language: $language) {
    id
    name
    language
    gender
    provider
  }
}
    `),pe=new y(`
    subscription JobProgress($jobId: ID!) {
  jobProgress(jobId: $jobId) {
    jobId
    event
    status
    stage
    progress
    sceneIndex
    message
    actualCost
    estimatedCost
    updatedAt
    job {
      ...JobFields
    }
  }
}
    fragment AssetFields on Asset {
  id
  kind
  contentType
  sizeBytes
  width
  height
  durationSeconds
  originalFilename
  loudnessLufs
  truePeakDb
  url
}
fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  narration
  image {
    ...AssetFields
  }
  clip {
    ...AssetFields
  }
  sourceAsset {
    id
  }
  voiceOver {
    ...AssetFields
  }
}
fragment ExportFields on Export {
  id
  aspectRatio
  resolution
  container
  fit
  status
  progress
  error
  createdAt
  asset {
    ...AssetFields
  }
}
fragment JobFields on Job {
  id
  status
  stage
  progress
  brief
  campaignId
  aspectRatio
  resolution
  sceneCount
  targetDuration
  style
  voice
  language
  captions
  music
  musicAssetId
  storyboardVersion
  approved
  approvedAt
  approvedBy
  estimatedCost
  actualCost
  retryCount
  errorMessage
  cancelRequested
  createdAt
  updatedAt
  scenes {
    ...SceneFields
  }
  video {
    ...AssetFields
  }
  thumbnail {
    ...AssetFields
  }
  captionsVtt {
    ...AssetFields
  }
  captionsSrt {
    ...AssetFields
  }
  videoUrl
  exports {
    ...ExportFields
  }
}`),me=["COMPLETED","FAILED","CANCELED"],H=t=>t!=null&&me.includes(t);function M(){return globalThis.location?.href}class he{url;wsUrl;tokenSource;fetchImpl;options;ws=null;socketState="idle";everConnected=!1;constructor(s){this.options=s;const r=new URL(s.url,M());this.url=r.toString();const o=new URL(s.wsUrl??this.url,M());o.protocol==="http:"&&(o.protocol="ws:"),o.protocol==="https:"&&(o.protocol="wss:"),this.wsUrl=o.toString(),this.tokenSource=s.token;const d=s.fetch??globalThis.fetch;this.fetchImpl=(...i)=>d(...i)}get token(){const s=this.tokenSource,r=typeof s=="function"?s():s;return r||null}resolveUrl(s){return new URL(s,this.url).toString()}headers(s={}){const r=this.token;return{...r?{Authorization:`Bearer ${r}`}:{},...s}}async request(s,r,o={}){try{const d=await this.fetchImpl(this.url,{method:"POST",headers:this.headers({"Content-Type":"application/json",Accept:"application/json"}),body:JSON.stringify({query:s.toString(),variables:r}),...o.signal?{signal:o.signal}:{}});return await q(d)}catch(d){return{ok:!1,error:P(d)}}}async execute(s,r,o={}){const d=await this.request(s,r,o);if(!d.ok)throw d.error;return d.data}subscribe(s,r,o){return this.socket().subscribe({query:s.toString(),variables:r},{next:i=>{i.errors?.length?o.error?.(j.fromGraphQL(i.errors[0])):i.data&&o.next(i.data)},error:i=>o.error?.(ge(i)),complete:()=>o.complete?.()})}setSocketState(s){s!==this.socketState&&(this.socketState=s,this.options.onSocketState?.(s))}socket(){if(this.ws)return this.ws;const s=this.options.webSocketImpl??globalThis.WebSocket;if(!s)throw new j("SOCKET_CLOSED","no WebSocket implementation available");return this.ws=X({url:this.wsUrl,webSocketImpl:s,lazy:!0,lazyCloseTimeout:1e3,keepAlive:1e4,retryAttempts:this.options.retryAttempts??8,retryWait:async r=>{const o=Math.min(500*2**r,8e3)+Math.random()*500;await new Promise(d=>setTimeout(d,o))},shouldRetry:r=>{const o=r?.code;return o===void 0||!(o>=4400&&o<=4499)},connectionParams:()=>{const r=this.token;return r?{Authorization:`Bearer ${r}`}:{}},on:{connecting:()=>this.setSocketState(this.everConnected?"reconnecting":"connecting"),connected:()=>{this.everConnected=!0,this.setSocketState("connected")},closed:()=>this.setSocketState("closed")}}),this.ws}close(){const s=this.ws;this.ws=null,this.everConnected=!1,s?.dispose(),this.setSocketState("idle")}async job(s){return(await this.execute(K,{id:s})).job}async jobs(s){return(await this.execute(de,s)).jobs}async viewer(){return(await this.execute(ce,{})).viewer}async voices(s){return(await this.execute(ue,{language:s??null})).voices}async createJob(s){return(await this.execute(te,{input:s})).createJob}async refineScene(s,r,o){return(await this.execute(re,{jobId:s,sceneIndex:r,input:o})).refineScene}async approveStoryboard(s){return(await this.execute(oe,{jobId:s})).approveStoryboard}async renderVideo(s){return(await this.execute(ae,{jobId:s})).renderVideo}async exportVideo(s,r){return(await this.execute(ne,{jobId:s,input:r})).exportVideo}async cancelJob(s){return(await this.execute(ie,{jobId:s})).cancelJob}async retryJob(s){return(await this.execute(le,{jobId:s})).retryJob}jobProgress(s,r){return this.subscribe(pe,{jobId:s},{next:o=>r.next(o.jobProgress),...r.error?{error:r.error}:{},...r.complete?{complete:r.complete}:{}})}async upload(s,r={}){const o=new FormData;o.append("operations",JSON.stringify({query:se.toString(),variables:{file:null}})),o.append("map",JSON.stringify({0:["variables.file"]}));const d=s.name??"upload";o.append("0",s,d);const i=this.headers({"apollo-require-preflight":"true"}),a=typeof globalThis.XMLHttpRequest=="function";let p;if(r.onProgress&&a)p=await fe(this.url,o,i,s.size,r);else try{const u=await this.fetchImpl(this.url,{method:"POST",headers:i,body:o,...r.signal?{signal:r.signal}:{}});p=await q(u),p.ok&&r.onProgress?.(s.size,s.size)}catch(u){p={ok:!1,error:P(u)}}if(!p.ok)throw p.error;return p.data.uploadAsset}}function ge(t){if(Array.isArray(t)&&t.length>0)return j.fromGraphQL(t[0]);const s=t;if(s&&typeof s.code=="number"){const r=s.reason??"";return s.code===4403||s.code===4401||/UNAUTHENTICATED/.test(r)?new j("UNAUTHENTICATED",r||"the socket was refused"):new j("SOCKET_CLOSED",`socket closed (${s.code}) ${r}`.trim())}return new j("SOCKET_CLOSED",t instanceof Error?t.message:"socket error",{cause:t})}async function q(t){let s;try{s=await t.json()}catch(r){return{ok:!1,error:new j("BAD_RESPONSE",`HTTP ${t.status}: not JSON`,{status:t.status,cause:r})}}return Q(s,t.status)}function Q(t,s){const r=t;if(r.errors?.length)return{ok:!1,error:j.fromGraphQL(r.errors[0])};if(r.error&&typeof r.error=="object"){const o=r.error;return{ok:!1,error:j.fromGraphQL({message:String(o.message??""),extensions:o})}}return s>=400||r.data==null?{ok:!1,error:new j("BAD_RESPONSE",`HTTP ${s} without data`,{status:s})}:{ok:!0,data:r.data}}function fe(t,s,r,o,d){return new Promise(i=>{const a=new XMLHttpRequest;a.open("POST",t);for(const[p,u]of Object.entries(r))a.setRequestHeader(p,u);a.upload.onprogress=p=>{d.onProgress?.(p.loaded,p.lengthComputable?p.total:o)},a.onload=()=>{try{i(Q(JSON.parse(a.responseText),a.status))}catch(p){i({ok:!1,error:new j("BAD_RESPONSE",`HTTP ${a.status}: not JSON`,{status:a.status,cause:p})})}},a.onerror=()=>i({ok:!1,error:new j("NETWORK_ERROR","upload failed")}),a.onabort=()=>i({ok:!1,error:new j("ABORTED","upload aborted")}),d.signal?.addEventListener("abort",()=>a.abort()),a.send(s)})}const be=t=>t?.exports.some(s=>s.status==="QUEUED"||s.status==="PROCESSING")??!1;function z(t){return t!==null&&(!H(t.status)||be(t))}function xe(t){const{client:s,pollInterval:r=1e3}=t,[o,d]=c.useState(null),[i,a]=c.useState(null),[p,u]=c.useState("idle"),[S,n]=c.useState([]),[F,l]=c.useState(0),[A,b]=c.useState(0),m=c.useRef(!1),x=c.useRef(null);c.useEffect(()=>(m.current=!0,()=>{m.current=!1}),[]);const N=c.useCallback(g=>{if(!m.current)return;const f=x.current;g&&f&&g.id===f.id&&g.updatedAt<f.updatedAt||(x.current=g,d(g))},[]),I=o?.id??null,$=z(o);c.useEffect(()=>{if(!I||!$){u("idle");return}let g=!1,f=null,w=null;const O=async()=>{if(g)return;const v=await s.request(K,{id:I});if(!g){if(v.ok){if(N(v.data.job),!z(v.data.job)){u("idle");return}}else if(v.error.code!=="NETWORK_ERROR"){a(v.error),u("idle");return}w=setTimeout(()=>{O()},r)}},C=()=>{g||(u("polling"),O())},D=x.current;if(D&&H(D.status))C();else try{u("socket"),f=s.jobProgress(I,{next:v=>{g||N(v.job)},error:v=>{g||(v.code==="SOCKET_CLOSED"||v.code==="NETWORK_ERROR"?C():(a(v),u("idle")))},complete:()=>{g||u("idle")}})}catch{C()}return()=>{g=!0,f?.(),w&&clearTimeout(w)}},[s,I,$,A,r,N]);const R=c.useCallback(async(g,f)=>{m.current&&(a(null),l(w=>w+1));try{const w=await g();return m.current&&f?.(w),w}catch(w){return m.current&&a(P(w)),null}finally{m.current&&l(w=>w-1)}},[]),k=()=>{const g=x.current?.id;if(!g)throw new j("BAD_USER_INPUT","no job yet: create or load one first");return g},E=c.useCallback(g=>{N(g),m.current&&b(f=>f+1)},[N]),{jobId:T}=t,h=c.useMemo(()=>({create:g=>R(()=>s.createJob(g),E),voices:g=>R(()=>s.voices(g)),load:g=>R(()=>s.job(g),E),upload:async g=>{const f=Math.random().toString(36).slice(2),w=g.name??"upload",O=C=>{m.current&&n(D=>D.map(v=>v.id===f?{...v,...C}:v))};return m.current&&n(C=>[...C,{id:f,name:w,sent:0,total:g.size,asset:null,error:null}]),R(()=>s.upload(g,{onProgress:(C,D)=>O({sent:C,total:D})}).catch(C=>{throw O({error:P(C)}),C}),C=>{m.current&&n(D=>D.map(v=>v.id===f?{...v,asset:C,sent:v.total}:v))})},refineScene:(g,f)=>R(()=>s.refineScene(k(),g,f),E),approve:()=>R(()=>s.approveStoryboard(k()),E),render:()=>R(()=>s.renderVideo(k()),E),cancel:()=>R(()=>s.cancelJob(k()),E),retry:()=>R(()=>s.retryJob(k()),E),exportVideo:g=>R(async()=>{const f=k();return{created:await s.exportVideo(f,{targets:g}),job:await s.job(f)}},({job:f})=>E(f)).then(f=>f?.created??null),reset:()=>{x.current=null,d(null),a(null),n([])},clearError:()=>a(null)}),[s,R,E]);return c.useEffect(()=>{T&&x.current?.id!==T&&h.load(T)},[T,h]),{job:o,scenes:o?.scenes??[],status:o?.status??null,stage:o?.stage??null,progress:o?.progress??0,cost:{estimated:o?.estimatedCost??null,actual:o?.actualCost??0},error:i,exports:o?.exports??[],live:p,uploads:S,busy:F>0,...h}}function W(t){return t==null?"—":`$${t.toFixed(t<1?3:2)}`}function U(t){return t<1024?`${t} B`:t<1024*1024?`${(t/1024).toFixed(0)} KB`:`${(t/1024/1024).toFixed(1)} MB`}function ve(t,s){const r=o=>o.toFixed(1).replace("-","−");return`Loudness ${r(t)} LUFS${s!=null?` · true peak ${r(s)} dBTP`:""} (EBU R128)`}const Ae="image/jpeg,image/png,video/mp4,video/quicktime,audio/mpeg,audio/wav,audio/x-wav,audio/mp4,audio/x-m4a,.mp3,.wav,.m4a";function je({uploads:t,onFile:s,disabled:r}){const o=c.useId(),d=c.useRef(null),[i,a]=c.useState(!1),p=u=>{for(const S of Array.from(u??[]))s(S)};return e.jsxs("div",{className:"uploads",children:[e.jsx("div",{className:`drop${i?" over":""}${r?" disabled":""}`,"data-testid":"dropzone",role:"button",tabIndex:r?-1:0,"aria-disabled":r,"aria-describedby":`${o}-hint`,onClick:()=>!r&&d.current?.click(),onKeyDown:u=>{!r&&(u.key==="Enter"||u.key===" ")&&(u.preventDefault(),d.current?.click())},onDragOver:u=>{u.preventDefault(),r||a(!0)},onDragLeave:()=>a(!1),onDrop:u=>{u.preventDefault(),a(!1),r||p(u.dataTransfer.files)},children:"Drop product shots, clips or a music track here, or press to choose files"}),e.jsx("p",{id:`${o}-hint`,className:"muted",children:"jpg, png, mp4 or mov for the scenes; mp3, wav or m4a for the music; up to 50 MB each, checked by content."}),e.jsx("input",{ref:d,type:"file",accept:Ae,multiple:!0,hidden:!0,"data-testid":"upload-input",onChange:u=>{p(u.target.files),u.target.value=""}}),t.length?e.jsx("ul",{className:"upload-list","aria-label":"Uploads",children:t.map(u=>e.jsxs("li",{children:[e.jsx("span",{className:"name",children:u.name}),e.jsx("progress",{max:u.total||1,value:u.sent,"aria-label":`Upload of ${u.name}`}),e.jsx("span",{className:"muted",children:u.error?`${u.error.code}`:u.asset?"ready":`${U(u.sent)} / ${U(u.total)}`})]},u.id))}):null]})}const J="default",B="none",_="track:",ye={voice:J,language:"",captions:"WORD",music:"UPBEAT"},Se=[{value:"WORD",label:"Word (highlighted)"},{value:"SENTENCE",label:"Sentence"},{value:"NONE",label:"None"}],Fe=[{value:"UPBEAT",label:"Upbeat"},{value:"CALM",label:"Calm"},{value:"CORPORATE",label:"Corporate"},{value:"DRAMATIC",label:"Dramatic"},{value:"PLAYFUL",label:"Playful"},{value:"NONE",label:"No music"}];function Ee(t){const s=t.music.startsWith(_)?t.music.slice(_.length):null;return{voice:t.voice===B?null:t.voice,...t.language?{language:t.language}:{},captions:t.captions,...s?{musicAssetId:s}:{music:t.music}}}const L=t=>t.split("-")[0].toLowerCase();function we(t){try{return new Intl.DisplayNames(["en"],{type:"language"}).of(t)??t}catch{return t}}function Ce(t,s){const[r,o]=c.useState([]),[d,i]=c.useState(null);return c.useEffect(()=>{if(!s)return;let a=!0;return t.voices().then(p=>{a&&(o(p),i(null))},p=>{a&&i(P(p).code)}),()=>{a=!1}},[t,s]),{voices:r,problem:d}}function Re({client:t,enabled:s,value:r,onChange:o,tracks:d}){const i=c.useId(),{voices:a,problem:p}=Ce(t,s),u=[...new Set(a.map(l=>l.language).filter(l=>l!=="*"))].sort(),S=r.language?a.filter(l=>l.language==="*"||L(l.language)===L(r.language)):a,n=l=>o({...r,...l}),F=d.at(-1)?.id;return c.useEffect(()=>{F&&o({...r,music:`${_}${F}`})},[F]),e.jsxs("fieldset",{className:"sound",children:[e.jsx("legend",{children:"Voice-over, captions and music"}),e.jsxs("div",{className:"grid2",children:[e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${i}-language`,children:"Language"}),e.jsxs("select",{id:`${i}-language`,"data-testid":"language-select",value:r.language,onChange:l=>{const A=l.target.value,b=r.voice===J||r.voice===B||!A||a.some(m=>m.id===r.voice&&(m.language==="*"||L(m.language)===L(A)));n({language:A,...b?{}:{voice:J}})},children:[e.jsx("option",{value:"",children:"Auto"}),u.map(l=>e.jsxs("option",{value:l,children:[we(l)," (",l,")"]},l))]})]}),e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${i}-captions`,children:"Captions"}),e.jsx("select",{id:`${i}-captions`,"data-testid":"captions-select",value:r.captions,onChange:l=>n({captions:l.target.value}),children:Se.map(l=>e.jsx("option",{value:l.value,children:l.label},l.value))})]}),e.jsxs("div",{className:"span2",children:[e.jsx("label",{htmlFor:`${i}-voice`,children:"Voice"}),e.jsxs("select",{id:`${i}-voice`,"data-testid":"voice-select",value:r.voice,"aria-describedby":p?`${i}-voice-hint`:void 0,onChange:l=>n({voice:l.target.value}),children:[e.jsx("option",{value:J,children:"The language's default voice"}),e.jsx("option",{value:B,children:"No voice-over"}),S.map(l=>e.jsxs("option",{value:l.id,children:[l.name,l.gender?` · ${l.gender}`:""]},l.id))]})]}),e.jsxs("div",{className:"span2",children:[e.jsx("label",{htmlFor:`${i}-music`,children:"Music"}),e.jsxs("select",{id:`${i}-music`,"data-testid":"music-select",value:r.music,"aria-describedby":`${i}-music-hint`,onChange:l=>n({music:l.target.value}),children:[e.jsx("optgroup",{label:"Generated bed",children:Fe.map(l=>e.jsx("option",{value:l.value,children:l.label},l.value))}),d.length?e.jsx("optgroup",{label:"Your tracks",children:d.map(l=>e.jsx("option",{value:`${_}${l.id}`,children:l.name},l.id))}):null]})]})]}),e.jsx("p",{id:`${i}-music-hint`,className:"muted",children:"Drop an mp3, wav or m4a below to use your own track; music is ducked under the voice and the mix is normalised to −14 LUFS."}),p?e.jsxs("p",{id:`${i}-voice-hint`,className:"muted",children:["The voices could not be listed (",p,"); the default voice is used."]}):null]})}const Ne=[{value:"LANDSCAPE_16_9",label:"16:9 landscape"},{value:"PORTRAIT_9_16",label:"9:16 vertical"},{value:"SQUARE_1_1",label:"1:1 square"},{value:"PORTRAIT_4_5",label:"4:5 portrait"}];function ke({client:t,connected:s,disabled:r,uploads:o,onUpload:d,onCreate:i}){const a=c.useId(),[p,u]=c.useState(""),[S,n]=c.useState("LANDSCAPE_16_9"),[F,l]=c.useState(3),[A,b]=c.useState(9),[m,x]=c.useState(""),[N,I]=c.useState(!0),[$,R]=c.useState(ye),k=o.flatMap(h=>h.asset?[{name:h.name,asset:h.asset}]:[]),E=k.filter(h=>!h.asset.contentType.startsWith("audio/")).map(h=>h.asset.id),T=k.filter(h=>h.asset.contentType.startsWith("audio/")).map(h=>({id:h.asset.id,name:h.name}));return e.jsxs("form",{className:"card","aria-labelledby":`${a}-title`,onSubmit:h=>{h.preventDefault(),i({brief:p.trim(),aspectRatio:S,sceneCount:F,targetDuration:A,...m.trim()?{style:m.trim()}:{},...N&&E.length?{assetIds:E}:{},...Ee($)})},children:[e.jsx("h2",{id:`${a}-title`,children:"Brief"}),e.jsx("label",{htmlFor:`${a}-brief`,children:"What is the ad about?"}),e.jsx("textarea",{id:`${a}-brief`,"data-testid":"brief-input",required:!0,minLength:3,maxLength:2e3,rows:4,value:p,onChange:h=>u(h.target.value),placeholder:"Cold brew coffee. Smooth and bold. Try it today."}),e.jsxs("div",{className:"grid2",children:[e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${a}-aspect`,children:"Aspect ratio"}),e.jsx("select",{id:`${a}-aspect`,"data-testid":"aspect-input",value:S,onChange:h=>n(h.target.value),children:Ne.map(h=>e.jsx("option",{value:h.value,children:h.label},h.value))})]}),e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${a}-scenes`,children:"Scenes"}),e.jsx("input",{id:`${a}-scenes`,"data-testid":"scene-count-input",type:"number",min:1,max:12,value:F,onChange:h=>l(Number(h.target.value))})]}),e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${a}-duration`,children:"Duration (s)"}),e.jsx("input",{id:`${a}-duration`,"data-testid":"duration-input",type:"number",min:2,max:120,step:1,value:A,onChange:h=>b(Number(h.target.value))})]}),e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${a}-style`,children:"Style"}),e.jsx("input",{id:`${a}-style`,"data-testid":"style-input",value:m,onChange:h=>x(h.target.value),placeholder:"warm, cinematic"})]})]}),e.jsx(Re,{client:t,enabled:s,value:$,onChange:R,tracks:T}),e.jsx(je,{uploads:o,onFile:d,disabled:r}),E.length?e.jsxs("label",{className:"check",children:[e.jsx("input",{type:"checkbox",checked:N,onChange:h=>I(h.target.checked)})," Use my"," ",E.length," upload",E.length>1?"s":""," for the first scenes"]}):null,e.jsx("button",{type:"submit","data-testid":"create-job",disabled:r||p.trim().length<3,children:"Create storyboard"})]})}function De({error:t,onDismiss:s}){return t?e.jsxs("div",{className:"card error",role:"alert","data-testid":"error","data-code":t.code,children:[e.jsx("strong",{children:t.code}),": ",t.message,e.jsx("button",{type:"button",className:"link",onClick:s,"aria-label":"Dismiss the error",children:"Dismiss"})]}):null}const Ie=[{testid:"export-gif",label:"GIF (480p)",targets:[{aspectRatio:"SQUARE_1_1",resolution:"R480P",container:"GIF"}]},{testid:"export-stories",label:"9:16 stories (MP4)",targets:[{aspectRatio:"PORTRAIT_9_16",container:"MP4"}]},{testid:"export-square",label:"1:1 feed (MP4)",targets:[{aspectRatio:"SQUARE_1_1",container:"MP4"}]},{testid:"export-webm",label:"16:9 WebM",targets:[{aspectRatio:"LANDSCAPE_16_9",container:"WEBM"}]}];function Te({exports:t,busy:s,onExport:r}){return e.jsxs("div",{className:"card",children:[e.jsx("h2",{children:"Exports"}),e.jsx("div",{className:"actions",children:Ie.map(o=>e.jsx("button",{type:"button","data-testid":o.testid,disabled:s,onClick:()=>r(o.targets),children:o.label},o.testid))}),t.length?e.jsx("ul",{className:"exports","aria-live":"polite",children:t.map(o=>e.jsxs("li",{"data-testid":"export-row","data-status":o.status,"data-container":o.container,children:[e.jsxs("span",{children:[o.container," · ",o.aspectRatio.replace(/^[A-Z]+_/,"").replace("_",":")," · ",o.resolution.slice(1)," · ",o.fit.toLowerCase()]}),o.status==="COMPLETED"&&o.asset?e.jsxs("a",{href:o.asset.url,download:`reelforge-${o.id.slice(0,8)}.${o.container.toLowerCase()}`,"data-testid":`download-${o.container.toLowerCase()}`,children:["Download (",U(o.asset.sizeBytes),")"]}):o.status==="FAILED"?e.jsxs("span",{className:"warn",children:["failed: ",o.error]}):e.jsxs("span",{className:"muted",children:[o.status.toLowerCase()," ",o.progress,"%"]})]},o.id))}):e.jsx("p",{className:"muted",children:"Other sizes and formats of the finished video."})]})}const Pe=10;function $e({client:t,version:s,currentId:r,onOpen:o}){const[d,i]=c.useState([]),[a,p]=c.useState(null),[u,S]=c.useState(!1),[n,F]=c.useState(0),[l,A]=c.useState(null),b=c.useCallback(async m=>{try{return await t.jobs({first:Pe,after:m})}catch(x){return A(P(x)),null}},[t]);return c.useEffect(()=>{let m=!0;return b(null).then(x=>{!m||!x||(A(null),i(x.edges.map(N=>N.node)),p(x.pageInfo.endCursor??null),S(x.pageInfo.hasNextPage),F(x.totalCount))}),()=>{m=!1}},[b,s]),e.jsxs("nav",{className:"card","aria-label":"Past jobs",children:[e.jsxs("h2",{children:["Past jobs ",e.jsxs("span",{className:"muted",children:["(",n,")"]})]}),l?e.jsxs("p",{className:"warn","data-testid":"error",children:[l.code,": ",l.message]}):null,e.jsx("ul",{className:"jobs","data-testid":"job-list",children:d.map(m=>e.jsx("li",{children:e.jsxs("button",{type:"button",className:`link${m.id===r?" current":""}`,"aria-current":m.id===r?"true":void 0,onClick:()=>o(m.id),children:[m.thumbnail?e.jsx("img",{src:m.thumbnail.url,alt:"",width:48,height:27}):null,e.jsx("span",{className:"job-brief",children:m.brief}),e.jsx("span",{className:"muted",children:m.status.toLowerCase()})]})},m.id))}),u?e.jsx("button",{type:"button",className:"secondary","data-testid":"jobs-more",onClick:()=>{b(a).then(m=>{m&&(i(x=>[...x,...m.edges.map(N=>N.node)]),p(m.pageInfo.endCursor??null),S(m.pageInfo.hasNextPage))})},children:"Load more"}):null]})}function Oe({scenes:t,editable:s,busy:r,onRefine:o}){if(!t.length)return null;const d=t.reduce((i,a)=>i+a.duration,0);return e.jsxs("div",{className:"card",children:[e.jsxs("h2",{children:["Storyboard ",e.jsxs("span",{className:"muted",children:["(",t.length," scenes, ",d.toFixed(1)," s)"]})]}),e.jsx("ol",{className:"scenes",children:t.map(i=>e.jsx(Le,{scene:i,editable:s,busy:r,onRefine:o},i.index))})]})}function Le({scene:t,editable:s,busy:r,onRefine:o}){const d=c.useId(),[i,a]=c.useState(!1),[p,u]=c.useState(t.imagePrompt),[S,n]=c.useState(t.narration),F={...p.trim()&&p.trim()!==t.imagePrompt?{imagePrompt:p.trim()}:{},...S.trim()!==t.narration?{narration:S.trim()}:{}},l=Object.keys(F).length>0;return e.jsxs("li",{className:"scene","data-testid":"scene-card","data-status":t.status,"data-duration":t.duration,"aria-label":`Scene ${t.index+1}`,children:[t.image?e.jsx("img",{src:t.image.url,alt:`Still of scene ${t.index+1}: ${t.description}`,width:t.image.width??void 0,height:t.image.height??void 0}):e.jsx("div",{className:"placeholder","aria-hidden":"true"}),e.jsxs("div",{className:"scene-body",children:[e.jsxs("p",{className:"scene-title",children:[e.jsxs("strong",{children:["Scene ",t.index+1]})," · ",t.duration.toFixed(1)," s ·"," ",e.jsx("span",{className:`status s-${t.status}`,children:t.status.replace(/_/g," ")})]}),e.jsx("p",{children:t.description}),e.jsxs("p",{className:"narration","data-testid":"scene-narration",children:[e.jsx("span",{className:"visually-hidden",children:"Narration: "}),t.narration?e.jsx("q",{children:t.narration}):e.jsx("span",{className:"muted",children:"No narration (silent)"})]}),s?i?e.jsxs("form",{onSubmit:A=>{A.preventDefault(),l&&(o(t.index,F),a(!1))},children:[e.jsx("label",{htmlFor:`${d}-prompt`,children:"Image prompt"}),e.jsx("textarea",{id:`${d}-prompt`,"data-testid":"refine-prompt",rows:3,value:p,onChange:A=>u(A.target.value)}),e.jsx("label",{htmlFor:`${d}-narration`,children:"Narration"}),e.jsx("textarea",{id:`${d}-narration`,"data-testid":"refine-narration",rows:2,maxLength:500,value:S,"aria-describedby":`${d}-narration-hint`,onChange:A=>n(A.target.value)}),e.jsx("p",{id:`${d}-narration-hint`,className:"muted",children:"The line spoken and captioned over this scene; empty for silence. A new line re-records only this scene's voice-over."}),e.jsxs("div",{className:"actions",children:[e.jsx("button",{type:"submit","data-testid":"refine-submit",disabled:r||!l,children:F.imagePrompt!==void 0?"Regenerate still":"Update narration"}),e.jsx("button",{type:"button",className:"secondary",onClick:()=>a(!1),children:"Cancel"})]})]}):e.jsx("button",{type:"button",className:"secondary","data-testid":"refine",onClick:()=>{u(t.imagePrompt),n(t.narration),a(!0)},disabled:r,children:"Refine scene"}):null]})]})}function Je({token:t,onSave:s}){const[r,o]=c.useState(t),d=c.useId();return e.jsxs("form",{className:"card",onSubmit:i=>{i.preventDefault(),s(r.trim().replace(/^Bearer\s+/i,""))},children:[e.jsx("h2",{children:"API token"}),e.jsx("label",{htmlFor:d,children:"Bearer token (JWT)"}),e.jsx("input",{id:d,"data-testid":"token-input",type:"password",autoComplete:"off",spellCheck:!1,value:r,onChange:i=>o(i.target.value),placeholder:"eyJhbGciOi…","aria-describedby":`${d}-hint`}),e.jsxs("p",{id:`${d}-hint`,className:"muted",children:["In development, ",e.jsx("code",{children:"reelforge serve"})," prints a ready token when it starts (the",e.jsx("code",{children:" Token:"})," line); ",e.jsx("code",{children:"reelforge token --client … --user …"})," mints another. It is kept for this tab only."]}),e.jsx("button",{type:"submit","data-testid":"token-save",children:t?"Use this token":"Save token"}),t?e.jsx("span",{className:"ok",children:" Token set."}):null]})}const V="reelforge.token";function _e(){try{return window.sessionStorage.getItem(V)??""}catch{return""}}function Ue(t){try{t?window.sessionStorage.setItem(V,t):window.sessionStorage.removeItem(V)}catch{}}function Be(){const[t,s]=c.useState(_e),[r,o]=c.useState("idle"),d=c.useRef(t);d.current=t;const i=c.useMemo(()=>new he({url:"/graphql",token:()=>d.current,onSocketState:o}),[t]),a=xe({client:i}),[p,u]=c.useState(0),S=b=>{Ue(b),s(b),a.reset()},n=a.job,F=n?.status==="STORYBOARD_COMPLETE"&&!n.approved,l=n?.status==="STORYBOARD_COMPLETE"&&n.approved,A=n!==null&&!["COMPLETED","FAILED","CANCELED","STORYBOARD_COMPLETE"].includes(n.status);return e.jsxs("div",{className:"app",children:[e.jsxs("header",{className:"top",children:[e.jsx("h1",{children:"Reelforge Studio"}),e.jsx("span",{className:"socket","aria-live":"polite",children:a.live==="polling"?"live updates: polling":r==="reconnecting"?"reconnecting…":null})]}),e.jsxs("main",{className:"layout",children:[e.jsxs("section",{className:"column","aria-label":"Set-up",children:[e.jsx(Je,{token:t,onSave:S}),e.jsx(ke,{client:i,connected:!!t,disabled:!t||a.busy,uploads:a.uploads,onUpload:b=>{a.upload(b)},onCreate:async b=>{await a.create(b)&&u(x=>x+1)}}),t?e.jsx($e,{client:i,version:`${p}:${n?.id??""}:${n?.status??""}`,currentId:n?.id??null,onOpen:b=>{a.load(b)}}):null]}),e.jsxs("section",{className:"column wide","aria-label":"Job",children:[e.jsx(De,{error:a.error,onDismiss:a.clearError}),n?e.jsxs(e.Fragment,{children:[e.jsxs("div",{className:"card job-head","data-testid":"job-head","data-job-id":n.id,children:[e.jsxs("h2",{children:["Job ",e.jsx("code",{children:n.id.slice(0,8)})," — ",n.status.toLowerCase().replace("_"," ")]}),e.jsx("p",{className:"brief",children:n.brief}),e.jsx("div",{className:"bar",role:"progressbar","data-testid":"progress","aria-label":"Job progress","aria-valuemin":0,"aria-valuemax":100,"aria-valuenow":a.progress,"aria-valuetext":`${a.progress}% ${a.stage??""}`.trim(),children:e.jsx("div",{className:"fill",style:{width:`${a.progress}%`}})}),e.jsxs("p",{className:"muted",children:[a.stage?`Stage: ${a.stage} · `:"",a.progress,"%"]}),e.jsxs("dl",{className:"cost",children:[e.jsxs("div",{children:[e.jsx("dt",{children:"Estimated cost"}),e.jsx("dd",{"data-testid":"cost-estimated",children:W(a.cost.estimated)})]}),e.jsxs("div",{children:[e.jsx("dt",{children:"Paid so far"}),e.jsx("dd",{"data-testid":"cost-actual",children:W(a.cost.actual)})]})]}),e.jsxs("dl",{className:"settings","aria-label":"Voice-over, captions and music",children:[e.jsxs("div",{children:[e.jsx("dt",{children:"Voice"}),e.jsxs("dd",{"data-testid":"job-voice","data-voice":n.voice??"",children:[n.voice??"no voice-over"," · ",n.language]})]}),e.jsxs("div",{children:[e.jsx("dt",{children:"Captions"}),e.jsx("dd",{"data-testid":"job-captions",children:n.captions.toLowerCase()})]}),e.jsxs("div",{children:[e.jsx("dt",{children:"Music"}),e.jsx("dd",{"data-testid":"job-music",children:n.musicAssetId?"your track":n.music.toLowerCase()})]})]}),e.jsxs("div",{className:"actions",children:[e.jsx("button",{type:"button","data-testid":"approve",disabled:!F||a.busy,onClick:()=>{a.approve()},children:n.approved?"Approved":"Approve storyboard"}),e.jsx("button",{type:"button","data-testid":"render",disabled:!l||a.busy,onClick:()=>{a.render()},children:"Render video"}),e.jsx("button",{type:"button","data-testid":"cancel",disabled:!A||a.busy,onClick:()=>{a.cancel()},children:"Cancel"}),n.status==="FAILED"?e.jsx("button",{type:"button","data-testid":"retry",disabled:a.busy,onClick:()=>{a.retry()},children:"Retry"}):null]}),n.errorMessage?e.jsx("p",{className:"warn",children:n.errorMessage}):null]}),e.jsx(Oe,{scenes:a.scenes,editable:n.status==="STORYBOARD_COMPLETE"||n.status==="COMPLETED"||n.status==="FAILED",busy:a.busy,onRefine:(b,m)=>{a.refineScene(b,m)}}),n.video?e.jsxs("div",{className:"card",children:[e.jsx("h2",{children:"Video"}),e.jsx("video",{"data-testid":"result-video",controls:!0,preload:"auto",src:n.video.url,poster:n.thumbnail?.url,"aria-label":"The rendered ad"}),e.jsxs("p",{className:"files",children:[e.jsx("a",{href:n.video.url,download:!0,children:"Download MP4"}),n.captionsSrt?e.jsx("a",{href:n.captionsSrt.url,download:`reelforge-${n.id.slice(0,8)}.srt`,"data-testid":"captions-srt",children:"Captions (.srt)"}):null,n.captionsVtt?e.jsx("a",{href:n.captionsVtt.url,download:`reelforge-${n.id.slice(0,8)}.vtt`,"data-testid":"captions-vtt",children:"Captions (.vtt)"}):null]}),n.video.loudnessLufs!=null?e.jsx("p",{className:"muted","data-testid":"loudness","data-lufs":n.video.loudnessLufs,"data-true-peak":n.video.truePeakDb??"",children:ve(n.video.loudnessLufs,n.video.truePeakDb)}):null]}):null,n.status==="COMPLETED"?e.jsx(Te,{exports:a.exports,busy:a.busy,onExport:b=>{a.exportVideo(b)}}):null]}):e.jsxs("div",{className:"card empty",children:[e.jsx("h2",{children:"No job open"}),e.jsx("p",{children:"Write a brief and create a job, or open one of your past jobs."})]})]})]})]})}const G=document.getElementById("root");G&&Y.createRoot(G).render(e.jsx(c.StrictMode,{children:e.jsx(Be,{})}));
