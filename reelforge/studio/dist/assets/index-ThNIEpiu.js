import{a as d,j as e,c as je}from"./client-BbmPAhWg.js";import{c as Ae}from"./client-wkOhMJXj.js";const ye=["UNAUTHENTICATED","FORBIDDEN","NOT_FOUND","BAD_USER_INPUT","CONFLICT","RATE_LIMITED","BUDGET_EXCEEDED","PAYLOAD_TOO_LARGE","UNSUPPORTED_MEDIA_TYPE","SERVICE_UNAVAILABLE","INTERNAL_SERVER_ERROR"];function Se(t){return typeof t=="string"&&ye.includes(t)}class w extends Error{name="ReelforgeError";code;extensions;path;status;constructor(s,a,i={}){super(a,i.cause===void 0?void 0:{cause:i.cause}),this.code=s,this.extensions=i.extensions??{},this.path=i.path,this.status=i.status}get retryAfter(){const s=this.extensions.retryAfter;return typeof s=="number"?s:void 0}static fromGraphQL(s){const a=s.extensions?.code;return new w(Se(a)?a:"INTERNAL_SERVER_ERROR",s.message,{extensions:s.extensions??{},...s.path?{path:s.path}:{}})}}function O(t){if(t instanceof w)return t;if(t instanceof Error&&t.name==="AbortError")return new w("ABORTED","the request was aborted",{cause:t});const s=t instanceof Error?t.message:String(t);return new w("NETWORK_ERROR",s,{cause:t})}class S extends String{__apiType;value;__meta__;constructor(s,a){super(s),this.value=s,this.__meta__=a}toString(){return this.value}}new S(`
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
    `,{fragmentName:"AssetFields"});new S(`
    fragment SceneFields on Scene {
  index
  description
  imagePrompt
  motionPrompt
  duration
  status
  narration
  headline
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
}`,{fragmentName:"SceneFields"});new S(`
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
  platform
  platformChecks {
    rule
    passed
    limit
    actual
  }
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
}`,{fragmentName:"ExportFields"});new S(`
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
  platform
  brandKitId
  callToAction
  headlines
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
  headline
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
  platform
  platformChecks {
    rule
    passed
    limit
    actual
  }
  asset {
    ...AssetFields
  }
}`,{fragmentName:"JobFields"});new S(`
    fragment BrandKitFields on BrandKit {
  id
  name
  primaryColor
  secondaryColor
  callToAction
  logoCorner
  logoOpacity
  createdAt
  updatedAt
  logo {
    ...AssetFields
  }
  font {
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
}`,{fragmentName:"BrandKitFields"});new S(`
    fragment PlatformFields on PlatformPreset {
  platform
  label
  aspectRatio
  minWidth
  minHeight
  maxSide
  minSeconds
  maxSeconds
  defaultSeconds
  minBytes
  maxBytes
  minVideoKbps
  minAudioKbps
  maxFps
  safeZone {
    top
    bottom
    left
    right
  }
  sources
}
    `,{fragmentName:"PlatformFields"});const Fe=new S(`
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
  headline
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
  platform
  platformChecks {
    rule
    passed
    limit
    actual
  }
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
  platform
  brandKitId
  callToAction
  headlines
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
}`),Ce=new S(`
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
}`),Ee=new S(`
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
  headline
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
  platform
  platformChecks {
    rule
    passed
    limit
    actual
  }
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
  platform
  brandKitId
  callToAction
  headlines
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
}`),we=new S(`
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
  headline
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
  platform
  platformChecks {
    rule
    passed
    limit
    actual
  }
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
  platform
  brandKitId
  callToAction
  headlines
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
}`),ke=new S(`
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
  headline
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
  platform
  platformChecks {
    rule
    passed
    limit
    actual
  }
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
  platform
  brandKitId
  callToAction
  headlines
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
}`),$e=new S(`
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
  platform
  platformChecks {
    rule
    passed
    limit
    actual
  }
  asset {
    ...AssetFields
  }
}`),Ne=new S(`
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
  headline
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
  platform
  platformChecks {
    rule
    passed
    limit
    actual
  }
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
  platform
  brandKitId
  callToAction
  headlines
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
}`),Te=new S(`
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
  headline
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
  platform
  platformChecks {
    rule
    passed
    limit
    actual
  }
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
  platform
  brandKitId
  callToAction
  headlines
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
}`),Re=new S(`
    mutation SaveBrandKit($input: BrandKitInput!) {
  saveBrandKit(input: $input) {
    ...BrandKitFields
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
fragment BrandKitFields on BrandKit {
  id
  name
  primaryColor
  secondaryColor
  callToAction
  logoCorner
  logoOpacity
  createdAt
  updatedAt
  logo {
    ...AssetFields
  }
  font {
    ...AssetFields
  }
}`),Ie=new S(`
    mutation DeleteBrandKit($id: ID!) {
  deleteBrandKit(id: $id)
}
    `),ce=new S(`
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
  headline
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
  platform
  platformChecks {
    rule
    passed
    limit
    actual
  }
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
  platform
  brandKitId
  callToAction
  headlines
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
}`),Pe=new S(`
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
    `),De=new S(`
    query Viewer {
  viewer {
    clientId
    userId
    spendToday
    dailyBudget
    budgetRemaining
  }
}
    `);new S(`
    query Models {
  models {
    kind
    provider
    model
    estimatedCost
  }
}
    `);const Be=new S(`
    query Voices($language: String) {
  voices(language: $language) {
    id
    name
    language
    gender
    provider
  }
}
    `),Oe=new S(`
    query Platforms {
  platforms {
    ...PlatformFields
  }
}
    fragment PlatformFields on PlatformPreset {
  platform
  label
  aspectRatio
  minWidth
  minHeight
  maxSide
  minSeconds
  maxSeconds
  defaultSeconds
  minBytes
  maxBytes
  minVideoKbps
  minAudioKbps
  maxFps
  safeZone {
    top
    bottom
    left
    right
  }
  sources
}`),Le=new S(`
    query BrandKits {
  brandKits {
    ...BrandKitFields
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
fragment BrandKitFields on BrandKit {
  id
  name
  primaryColor
  secondaryColor
  callToAction
  logoCorner
  logoOpacity
  createdAt
  updatedAt
  logo {
    ...AssetFields
  }
  font {
    ...AssetFields
  }
}`),_e=new S(`
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
  headline
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
  platform
  platformChecks {
    rule
    passed
    limit
    actual
  }
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
  platform
  brandKitId
  callToAction
  headlines
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
}`),Je=["COMPLETED","FAILED","CANCELED"],ue=t=>t!=null&&Je.includes(t);function se(){return globalThis.location?.href}class Ke{url;wsUrl;tokenSource;fetchImpl;options;ws=null;socketState="idle";everConnected=!1;constructor(s){this.options=s;const a=new URL(s.url,se());this.url=a.toString();const i=new URL(s.wsUrl??this.url,se());i.protocol==="http:"&&(i.protocol="ws:"),i.protocol==="https:"&&(i.protocol="wss:"),this.wsUrl=i.toString(),this.tokenSource=s.token;const c=s.fetch??globalThis.fetch;this.fetchImpl=(...l)=>c(...l)}get token(){const s=this.tokenSource,a=typeof s=="function"?s():s;return a||null}resolveUrl(s){return new URL(s,this.url).toString()}headers(s={}){const a=this.token;return{...a?{Authorization:`Bearer ${a}`}:{},...s}}async request(s,a,i={}){try{const c=await this.fetchImpl(this.url,{method:"POST",headers:this.headers({"Content-Type":"application/json",Accept:"application/json"}),body:JSON.stringify({query:s.toString(),variables:a}),...i.signal?{signal:i.signal}:{}});return await ae(c)}catch(c){return{ok:!1,error:O(c)}}}async execute(s,a,i={}){const c=await this.request(s,a,i);if(!c.ok)throw c.error;return c.data}subscribe(s,a,i){return this.socket().subscribe({query:s.toString(),variables:a},{next:l=>{l.errors?.length?i.error?.(w.fromGraphQL(l.errors[0])):l.data&&i.next(l.data)},error:l=>i.error?.(Ue(l)),complete:()=>i.complete?.()})}setSocketState(s){s!==this.socketState&&(this.socketState=s,this.options.onSocketState?.(s))}socket(){if(this.ws)return this.ws;const s=this.options.webSocketImpl??globalThis.WebSocket;if(!s)throw new w("SOCKET_CLOSED","no WebSocket implementation available");return this.ws=Ae({url:this.wsUrl,webSocketImpl:s,lazy:!0,lazyCloseTimeout:1e3,keepAlive:1e4,retryAttempts:this.options.retryAttempts??8,retryWait:async a=>{const i=Math.min(500*2**a,8e3)+Math.random()*500;await new Promise(c=>setTimeout(c,i))},shouldRetry:a=>{const i=a?.code;return i===void 0||!(i>=4400&&i<=4499)},connectionParams:()=>{const a=this.token;return a?{Authorization:`Bearer ${a}`}:{}},on:{connecting:()=>this.setSocketState(this.everConnected?"reconnecting":"connecting"),connected:()=>{this.everConnected=!0,this.setSocketState("connected")},closed:()=>this.setSocketState("closed")}}),this.ws}close(){const s=this.ws;this.ws=null,this.everConnected=!1,s?.dispose(),this.setSocketState("idle")}async job(s){return(await this.execute(ce,{id:s})).job}async jobs(s){return(await this.execute(Pe,s)).jobs}async viewer(){return(await this.execute(De,{})).viewer}async voices(s){return(await this.execute(Be,{language:s??null})).voices}async platforms(){return(await this.execute(Oe,{})).platforms}async brandKits(){return(await this.execute(Le,{})).brandKits}async saveBrandKit(s){return(await this.execute(Re,{input:s})).saveBrandKit}async deleteBrandKit(s){return(await this.execute(Ie,{id:s})).deleteBrandKit}async createJob(s){return(await this.execute(Fe,{input:s})).createJob}async refineScene(s,a,i){return(await this.execute(Ee,{jobId:s,sceneIndex:a,input:i})).refineScene}async approveStoryboard(s){return(await this.execute(we,{jobId:s})).approveStoryboard}async renderVideo(s){return(await this.execute(ke,{jobId:s})).renderVideo}async exportVideo(s,a){return(await this.execute($e,{jobId:s,input:a})).exportVideo}async cancelJob(s){return(await this.execute(Ne,{jobId:s})).cancelJob}async retryJob(s){return(await this.execute(Te,{jobId:s})).retryJob}jobProgress(s,a){return this.subscribe(_e,{jobId:s},{next:i=>a.next(i.jobProgress),...a.error?{error:a.error}:{},...a.complete?{complete:a.complete}:{}})}async upload(s,a={}){const i=new FormData;i.append("operations",JSON.stringify({query:Ce.toString(),variables:{file:null}})),i.append("map",JSON.stringify({0:["variables.file"]}));const c=s.name??"upload";i.append("0",s,c);const l=this.headers({"apollo-require-preflight":"true"}),r=typeof globalThis.XMLHttpRequest=="function";let n;if(a.onProgress&&r)n=await Me(this.url,i,l,s.size,a);else try{const m=await this.fetchImpl(this.url,{method:"POST",headers:l,body:i,...a.signal?{signal:a.signal}:{}});n=await ae(m),n.ok&&a.onProgress?.(s.size,s.size)}catch(m){n={ok:!1,error:O(m)}}if(!n.ok)throw n.error;return n.data.uploadAsset}}function Ue(t){if(Array.isArray(t)&&t.length>0)return w.fromGraphQL(t[0]);const s=t;if(s&&typeof s.code=="number"){const a=s.reason??"";return s.code===4403||s.code===4401||/UNAUTHENTICATED/.test(a)?new w("UNAUTHENTICATED",a||"the socket was refused"):new w("SOCKET_CLOSED",`socket closed (${s.code}) ${a}`.trim())}return new w("SOCKET_CLOSED",t instanceof Error?t.message:"socket error",{cause:t})}async function ae(t){let s;try{s=await t.json()}catch(a){return{ok:!1,error:new w("BAD_RESPONSE",`HTTP ${t.status}: not JSON`,{status:t.status,cause:a})}}return pe(s,t.status)}function pe(t,s){const a=t;if(a.errors?.length)return{ok:!1,error:w.fromGraphQL(a.errors[0])};if(a.error&&typeof a.error=="object"){const i=a.error;return{ok:!1,error:w.fromGraphQL({message:String(i.message??""),extensions:i})}}return s>=400||a.data==null?{ok:!1,error:new w("BAD_RESPONSE",`HTTP ${s} without data`,{status:s})}:{ok:!0,data:a.data}}function Me(t,s,a,i,c){return new Promise(l=>{const r=new XMLHttpRequest;r.open("POST",t);for(const[n,m]of Object.entries(a))r.setRequestHeader(n,m);r.upload.onprogress=n=>{c.onProgress?.(n.loaded,n.lengthComputable?n.total:i)},r.onload=()=>{try{l(pe(JSON.parse(r.responseText),r.status))}catch(n){l({ok:!1,error:new w("BAD_RESPONSE",`HTTP ${r.status}: not JSON`,{status:r.status,cause:n})})}},r.onerror=()=>l({ok:!1,error:new w("NETWORK_ERROR","upload failed")}),r.onabort=()=>l({ok:!1,error:new w("ABORTED","upload aborted")}),c.signal?.addEventListener("abort",()=>r.abort()),r.send(s)})}const Ve=t=>t?.exports.some(s=>s.status==="QUEUED"||s.status==="PROCESSING")??!1;function oe(t){return t!==null&&(!ue(t.status)||Ve(t))}function ze(t){const{client:s,pollInterval:a=1e3}=t,[i,c]=d.useState(null),[l,r]=d.useState(null),[n,m]=d.useState("idle"),[h,x]=d.useState([]),[y,u]=d.useState(0),[A,k]=d.useState(0),o=d.useRef(!1),v=d.useRef(null);d.useEffect(()=>(o.current=!0,()=>{o.current=!1}),[]);const F=d.useCallback(b=>{if(!o.current)return;const j=v.current;b&&j&&b.id===j.id&&b.updatedAt<j.updatedAt||(v.current=b,c(b))},[]),I=i?.id??null,f=oe(i);d.useEffect(()=>{if(!I||!f){m("idle");return}let b=!1,j=null,E=null;const D=async()=>{if(b)return;const C=await s.request(ce,{id:I});if(!b){if(C.ok){if(F(C.data.job),!oe(C.data.job)){m("idle");return}}else if(C.error.code!=="NETWORK_ERROR"){r(C.error),m("idle");return}E=setTimeout(()=>{D()},a)}},$=()=>{b||(m("polling"),D())},P=v.current;if(P&&ue(P.status))$();else try{m("socket"),j=s.jobProgress(I,{next:C=>{b||F(C.job)},error:C=>{b||(C.code==="SOCKET_CLOSED"||C.code==="NETWORK_ERROR"?$():(r(C),m("idle")))},complete:()=>{b||m("idle")}})}catch{$()}return()=>{b=!0,j?.(),E&&clearTimeout(E)}},[s,I,f,A,a,F]);const g=d.useCallback(async(b,j)=>{o.current&&(r(null),u(E=>E+1));try{const E=await b();return o.current&&j?.(E),E}catch(E){return o.current&&r(O(E)),null}finally{o.current&&u(E=>E-1)}},[]),N=()=>{const b=v.current?.id;if(!b)throw new w("BAD_USER_INPUT","no job yet: create or load one first");return b},T=d.useCallback(b=>{F(b),o.current&&k(j=>j+1)},[F]),{jobId:L}=t,B=d.useMemo(()=>({create:b=>g(()=>s.createJob(b),T),voices:b=>g(()=>s.voices(b)),platforms:()=>g(()=>s.platforms()),brandKits:()=>g(()=>s.brandKits()),saveBrandKit:b=>g(()=>s.saveBrandKit(b)),deleteBrandKit:b=>g(()=>s.deleteBrandKit(b)),load:b=>g(()=>s.job(b),T),upload:async b=>{const j=Math.random().toString(36).slice(2),E=b.name??"upload",D=$=>{o.current&&x(P=>P.map(C=>C.id===j?{...C,...$}:C))};return o.current&&x($=>[...$,{id:j,name:E,sent:0,total:b.size,asset:null,error:null}]),g(()=>s.upload(b,{onProgress:($,P)=>D({sent:$,total:P})}).catch($=>{throw D({error:O($)}),$}),$=>{o.current&&x(P=>P.map(C=>C.id===j?{...C,asset:$,sent:C.total}:C))})},refineScene:(b,j)=>g(()=>s.refineScene(N(),b,j),T),approve:()=>g(()=>s.approveStoryboard(N()),T),render:()=>g(()=>s.renderVideo(N()),T),cancel:()=>g(()=>s.cancelJob(N()),T),retry:()=>g(()=>s.retryJob(N()),T),exportVideo:b=>g(async()=>{const j=N();return{created:await s.exportVideo(j,{targets:b}),job:await s.job(j)}},({job:j})=>T(j)).then(j=>j?.created??null),reset:()=>{v.current=null,c(null),r(null),x([])},clearError:()=>r(null)}),[s,g,T]);return d.useEffect(()=>{L&&v.current?.id!==L&&B.load(L)},[L,B]),{job:i,scenes:i?.scenes??[],status:i?.status??null,stage:i?.stage??null,progress:i?.progress??0,cost:{estimated:i?.estimatedCost??null,actual:i?.actualCost??0},error:l,exports:i?.exports??[],live:n,uploads:h,busy:y>0,...B}}function re(t){return t==null?"—":`$${t.toFixed(t<1?3:2)}`}function Q(t){return t<1024?`${t} B`:t<1024*1024?`${(t/1024).toFixed(0)} KB`:`${(t/1024/1024).toFixed(1)} MB`}function qe(t,s){const a=i=>i.toFixed(1).replace("-","−");return`Loudness ${a(t)} LUFS${s!=null?` · true peak ${a(s)} dBTP`:""} (EBU R128)`}const We="image/jpeg,image/png,video/mp4,video/quicktime,audio/mpeg,audio/wav,audio/x-wav,audio/mp4,audio/x-m4a,.mp3,.wav,.m4a";function Y({uploads:t,onFile:s,disabled:a,accept:i=We,multiple:c=!0,prompt:l="Drop product shots, clips or a music track here, or press to choose files",hint:r="jpg, png, mp4 or mov for the scenes; mp3, wav or m4a for the music; up to 50 MB each, checked by content.",testid:n="dropzone",inputTestid:m="upload-input",listLabel:h="Uploads"}){const x=d.useId(),y=d.useRef(null),[u,A]=d.useState(!1),k=o=>{for(const v of Array.from(o??[]))s(v)};return e.jsxs("div",{className:"uploads",children:[e.jsx("div",{className:`drop${u?" over":""}${a?" disabled":""}`,"data-testid":n,role:"button",tabIndex:a?-1:0,"aria-disabled":a,"aria-describedby":`${x}-hint`,onClick:()=>!a&&y.current?.click(),onKeyDown:o=>{!a&&(o.key==="Enter"||o.key===" ")&&(o.preventDefault(),y.current?.click())},onDragOver:o=>{o.preventDefault(),a||A(!0)},onDragLeave:()=>A(!1),onDrop:o=>{o.preventDefault(),A(!1),a||k(o.dataTransfer.files)},children:l}),e.jsx("p",{id:`${x}-hint`,className:"muted",children:r}),e.jsx("input",{ref:y,type:"file",accept:i,multiple:c,hidden:!0,"data-testid":m,onChange:o=>{k(o.target.files),o.target.value=""}}),t.length?e.jsx("ul",{className:"upload-list","aria-label":h,children:t.map(o=>e.jsxs("li",{children:[e.jsx("span",{className:"name",children:o.name}),e.jsx("progress",{max:o.total||1,value:o.sent,"aria-label":`Upload of ${o.name}`}),e.jsx("span",{className:"muted",children:o.error?`${o.error.code}`:o.asset?"ready":`${Q(o.sent)} / ${Q(o.total)}`})]},o.id))}):null]})}const Ge=[{value:"TOP_RIGHT",label:"Top right"},{value:"TOP_LEFT",label:"Top left"},{value:"BOTTOM_RIGHT",label:"Bottom right"},{value:"BOTTOM_LEFT",label:"Bottom left"}];function ne(t){const[s,a]=d.useState(null);return{upload:s,start:c=>{const l=Math.random().toString(36).slice(2),r=n=>a(m=>m&&m.id===l?{...m,...n}:m);a({id:l,name:c.name,sent:0,total:c.size,asset:null,error:null}),t.upload(c,{onProgress:(n,m)=>r({sent:n,total:m})}).then(n=>r({asset:n,sent:c.size,total:c.size}),n=>r({error:O(n)}))},clear:()=>a(null)}}function He({client:t,kits:s,disabled:a,onSave:i,onDelete:c}){const l=d.useId(),[r,n]=d.useState(""),[m,h]=d.useState("#111111"),[x,y]=d.useState("#ffffff"),[u,A]=d.useState(""),[k,o]=d.useState("TOP_RIGHT"),v=ne(t),F=ne(t),I=[v.upload,F.upload].some(f=>f&&!f.asset&&!f.error);return e.jsxs("section",{className:"card","aria-labelledby":`${l}-title`,children:[e.jsx("h2",{id:`${l}-title`,children:"Brand kits"}),s.length?e.jsx("ul",{className:"kits","aria-label":"Your brand kits",children:s.map(f=>e.jsxs("li",{"data-testid":"brand-kit","data-kit-id":f.id,children:[f.logo?e.jsx("img",{src:f.logo.url,alt:"",width:40,height:40}):e.jsx("span",{className:"swatch logo-none","aria-hidden":"true"}),e.jsxs("span",{className:"kit-name",children:[e.jsx("strong",{children:f.name}),e.jsxs("span",{className:"muted",children:[e.jsx("span",{className:"swatch",style:{background:f.primaryColor},"aria-hidden":"true"}),e.jsx("span",{className:"swatch",style:{background:f.secondaryColor},"aria-hidden":"true"}),f.primaryColor," / ",f.secondaryColor,f.callToAction?` · “${f.callToAction}”`:"",f.font?` · ${f.font.originalFilename??"own font"}`:""]})]}),e.jsx("button",{type:"button",className:"secondary","data-testid":"brand-kit-delete","aria-label":`Delete the brand kit ${f.name}`,disabled:a,onClick:()=>{c(f.id)},children:"Delete"})]},f.id))}):e.jsx("p",{className:"muted",children:"No brand kit yet: a kit puts your logo, colours and call to action on every ad."}),e.jsxs("form",{className:"kit-editor","aria-label":"New brand kit",onSubmit:f=>{f.preventDefault(),i({name:r.trim(),primaryColor:m,secondaryColor:x,logoCorner:k,...v.upload?.asset?{logoAssetId:v.upload.asset.id}:{},...F.upload?.asset?{fontAssetId:F.upload.asset.id}:{},...u.trim()?{callToAction:u.trim()}:{}}).then(g=>{g&&(n(""),A(""),v.clear(),F.clear())})},children:[e.jsx("h3",{children:"New brand kit"}),e.jsx("label",{htmlFor:`${l}-name`,children:"Name"}),e.jsx("input",{id:`${l}-name`,"data-testid":"brand-kit-name",required:!0,maxLength:100,value:r,onChange:f=>n(f.target.value),placeholder:"Acme coffee"}),e.jsxs("div",{className:"grid2",children:[e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${l}-primary`,children:"Primary colour"}),e.jsx("input",{id:`${l}-primary`,"data-testid":"brand-kit-primary",type:"color",value:m,onChange:f=>h(f.target.value),"aria-describedby":`${l}-colours`})]}),e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${l}-secondary`,children:"Text colour"}),e.jsx("input",{id:`${l}-secondary`,"data-testid":"brand-kit-secondary",type:"color",value:x,onChange:f=>y(f.target.value),"aria-describedby":`${l}-colours`})]})]}),e.jsx("p",{id:`${l}-colours`,className:"muted",children:"The primary colour fills the headline band and the end card; the text colour writes on it."}),e.jsx("label",{htmlFor:`${l}-cta`,children:"Call to action"}),e.jsx("input",{id:`${l}-cta`,"data-testid":"brand-kit-cta",maxLength:60,value:u,onChange:f=>A(f.target.value),placeholder:"Order today"}),e.jsx("label",{htmlFor:`${l}-corner`,children:"Logo corner"}),e.jsx("select",{id:`${l}-corner`,"data-testid":"brand-kit-corner",value:k,onChange:f=>o(f.target.value),children:Ge.map(f=>e.jsx("option",{value:f.value,children:f.label},f.value))}),e.jsx(Y,{uploads:v.upload?[v.upload]:[],onFile:v.start,disabled:a,accept:"image/png,image/jpeg",multiple:!1,prompt:"Drop the logo here, or press to choose it",hint:"png (transparency kept) or jpg; drawn in a corner of the platform's safe zone and on the end card.",testid:"brand-kit-logo-drop",inputTestid:"brand-kit-logo-input",listLabel:"Logo upload"}),v.upload?.asset?e.jsx("img",{className:"logo-preview","data-testid":"brand-kit-logo-preview",src:v.upload.asset.url,alt:"The uploaded logo"}):null,e.jsx(Y,{uploads:F.upload?[F.upload]:[],onFile:F.start,disabled:a,accept:".ttf,.otf,font/ttf,font/otf",multiple:!1,prompt:"Optional: drop a font here, or press to choose it",hint:"ttf or otf, for the headlines and the end card; without one a bundled sans serif is used.",testid:"brand-kit-font-drop",inputTestid:"brand-kit-font-input",listLabel:"Font upload"}),e.jsx("button",{type:"submit","data-testid":"brand-kit-save",disabled:a||I||!r.trim(),children:"Save brand kit"})]})]})}const U={LANDSCAPE_16_9:"16:9",PORTRAIT_9_16:"9:16",SQUARE_1_1:"1:1",PORTRAIT_4_5:"4:5"};function W(t){return{min:Math.max(2,t?.minSeconds??2),max:Math.min(120,t?.maxSeconds??120)}}const ie=t=>t>=60&&t%60===0?`${t/60} min`:`${t} s`;function me(t){const{min:s,max:a}=W(t);return`${U[t.aspectRatio]}, ${ie(s)}–${ie(a)}`}function he(t,s,a){const[i,c]=d.useState([]),[l,r]=d.useState(null),[n,m]=d.useState(0);d.useEffect(()=>{if(!s)return;let x=!0;return a(t).then(y=>{x&&(c(y),r(null))},y=>{x&&r(O(y).code)}),()=>{x=!1}},[t,s,n]);const h=d.useCallback(()=>m(x=>x+1),[]);return{items:i,problem:l,reload:h}}const Qe=t=>t.platforms(),Ye=t=>t.brandKits();function Ze(t,s){const{items:a,problem:i}=he(t,s,Qe);return{platforms:a,problem:i}}function Xe(t,s){const{items:a,problem:i,reload:c}=he(t,s,Ye);return{kits:a,problem:i,reload:c}}const q="default",Z="none",G="track:",et={voice:q,language:"",captions:"WORD",music:"UPBEAT"},tt=[{value:"WORD",label:"Word (highlighted)"},{value:"SENTENCE",label:"Sentence"},{value:"NONE",label:"None"}],st=[{value:"UPBEAT",label:"Upbeat"},{value:"CALM",label:"Calm"},{value:"CORPORATE",label:"Corporate"},{value:"DRAMATIC",label:"Dramatic"},{value:"PLAYFUL",label:"Playful"},{value:"NONE",label:"No music"}];function at(t){const s=t.music.startsWith(G)?t.music.slice(G.length):null;return{voice:t.voice===Z?null:t.voice,...t.language?{language:t.language}:{},captions:t.captions,...s?{musicAssetId:s}:{music:t.music}}}const z=t=>t.split("-")[0].toLowerCase();function ot(t){try{return new Intl.DisplayNames(["en"],{type:"language"}).of(t)??t}catch{return t}}function rt(t,s){const[a,i]=d.useState([]),[c,l]=d.useState(null);return d.useEffect(()=>{if(!s)return;let r=!0;return t.voices().then(n=>{r&&(i(n),l(null))},n=>{r&&l(O(n).code)}),()=>{r=!1}},[t,s]),{voices:a,problem:c}}function nt({client:t,enabled:s,value:a,onChange:i,tracks:c}){const l=d.useId(),{voices:r,problem:n}=rt(t,s),m=[...new Set(r.map(u=>u.language).filter(u=>u!=="*"))].sort(),h=a.language?r.filter(u=>u.language==="*"||z(u.language)===z(a.language)):r,x=u=>i({...a,...u}),y=c.at(-1)?.id;return d.useEffect(()=>{y&&i({...a,music:`${G}${y}`})},[y]),e.jsxs("fieldset",{className:"sound",children:[e.jsx("legend",{children:"Voice-over, captions and music"}),e.jsxs("div",{className:"grid2",children:[e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${l}-language`,children:"Language"}),e.jsxs("select",{id:`${l}-language`,"data-testid":"language-select",value:a.language,onChange:u=>{const A=u.target.value,k=a.voice===q||a.voice===Z||!A||r.some(o=>o.id===a.voice&&(o.language==="*"||z(o.language)===z(A)));x({language:A,...k?{}:{voice:q}})},children:[e.jsx("option",{value:"",children:"Auto"}),m.map(u=>e.jsxs("option",{value:u,children:[ot(u)," (",u,")"]},u))]})]}),e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${l}-captions`,children:"Captions"}),e.jsx("select",{id:`${l}-captions`,"data-testid":"captions-select",value:a.captions,onChange:u=>x({captions:u.target.value}),children:tt.map(u=>e.jsx("option",{value:u.value,children:u.label},u.value))})]}),e.jsxs("div",{className:"span2",children:[e.jsx("label",{htmlFor:`${l}-voice`,children:"Voice"}),e.jsxs("select",{id:`${l}-voice`,"data-testid":"voice-select",value:a.voice,"aria-describedby":n?`${l}-voice-hint`:void 0,onChange:u=>x({voice:u.target.value}),children:[e.jsx("option",{value:q,children:"The language's default voice"}),e.jsx("option",{value:Z,children:"No voice-over"}),h.map(u=>e.jsxs("option",{value:u.id,children:[u.name,u.gender?` · ${u.gender}`:""]},u.id))]})]}),e.jsxs("div",{className:"span2",children:[e.jsx("label",{htmlFor:`${l}-music`,children:"Music"}),e.jsxs("select",{id:`${l}-music`,"data-testid":"music-select",value:a.music,"aria-describedby":`${l}-music-hint`,onChange:u=>x({music:u.target.value}),children:[e.jsx("optgroup",{label:"Generated bed",children:st.map(u=>e.jsx("option",{value:u.value,children:u.label},u.value))}),c.length?e.jsx("optgroup",{label:"Your tracks",children:c.map(u=>e.jsx("option",{value:`${G}${u.id}`,children:u.name},u.id))}):null]})]})]}),e.jsx("p",{id:`${l}-music-hint`,className:"muted",children:"Drop an mp3, wav or m4a below to use your own track; music is ducked under the voice and the mix is normalised to −14 LUFS."}),n?e.jsxs("p",{id:`${l}-voice-hint`,className:"muted",children:["The voices could not be listed (",n,"); the default voice is used."]}):null]})}const it=[{value:"LANDSCAPE_16_9",label:"16:9 landscape"},{value:"PORTRAIT_9_16",label:"9:16 vertical"},{value:"SQUARE_1_1",label:"1:1 square"},{value:"PORTRAIT_4_5",label:"4:5 portrait"}],K=t=>`${Math.round(t*100)} %`;function lt({client:t,connected:s,disabled:a,uploads:i,platforms:c,kits:l,preferredKitId:r,onUpload:n,onCreate:m}){const h=d.useId(),[x,y]=d.useState(""),[u,A]=d.useState("LANDSCAPE_16_9"),[k,o]=d.useState(3),[v,F]=d.useState(9),[I,f]=d.useState(""),[g,N]=d.useState(!0),[T,L]=d.useState(et),[B,b]=d.useState(""),[j,E]=d.useState(""),[D,$]=d.useState(""),[P,C]=d.useState(!1),[ee,fe]=d.useState(!1),R=c.find(p=>p.platform===B),M=W(R),H=l.find(p=>p.id===j);d.useEffect(()=>{r&&E(r)},[r]),d.useEffect(()=>{j&&!l.some(p=>p.id===j)&&j!==r&&E("")},[l,j,r]);const ge=p=>{b(p);const V=c.find(J=>J.platform===p);if(!V)return;A(V.aspectRatio);const{min:xe,max:ve}=W(V);F(J=>J>=xe&&J<=ve?J:V.defaultSeconds)},te=i.flatMap(p=>p.asset?[{name:p.name,asset:p.asset}]:[]),_=te.filter(p=>!p.asset.contentType.startsWith("audio/")).map(p=>p.asset.id),be=te.filter(p=>p.asset.contentType.startsWith("audio/")).map(p=>({id:p.asset.id,name:p.name}));return e.jsxs("form",{className:"card","aria-labelledby":`${h}-title`,onSubmit:p=>{p.preventDefault(),m({brief:x.trim(),...B?{platform:B}:{},aspectRatio:u,sceneCount:k,targetDuration:v,...I.trim()?{style:I.trim()}:{},...g&&_.length?{assetIds:_}:{},...at(T),...j?{brandKitId:j}:{},...P?{callToAction:""}:D.trim()?{callToAction:D.trim()}:{},...ee?{headlines:!0}:{}})},children:[e.jsx("h2",{id:`${h}-title`,children:"Brief"}),e.jsx("label",{htmlFor:`${h}-brief`,children:"What is the ad about?"}),e.jsx("textarea",{id:`${h}-brief`,"data-testid":"brief-input",required:!0,minLength:3,maxLength:2e3,rows:4,value:x,onChange:p=>y(p.target.value),placeholder:"Cold brew coffee. Smooth and bold. Try it today."}),e.jsx("label",{htmlFor:`${h}-platform`,children:"Platform"}),e.jsxs("select",{id:`${h}-platform`,"data-testid":"platform-select",value:B,"aria-describedby":`${h}-platform-hint`,onChange:p=>ge(p.target.value),children:[e.jsx("option",{value:"",children:"Any (no platform rules)"}),c.map(p=>e.jsxs("option",{value:p.platform,children:[p.label," (",me(p),")"]},p.platform))]}),e.jsx("p",{id:`${h}-platform-hint`,className:"muted","data-testid":"platform-hint",children:R?`${U[R.aspectRatio]}, at least ${R.minWidth}×${R.minHeight}, ${M.min}–${M.max} s. Captions, headline and logo stay inside its safe zone (top ${K(R.safeZone.top)}, bottom ${K(R.safeZone.bottom)}, ${R.safeZone.left===R.safeZone.right?`sides ${K(R.safeZone.left)}`:`left ${K(R.safeZone.left)}, right ${K(R.safeZone.right)}`}).`:"Choose where the ad runs: its ratio, duration range and safe zone apply."}),e.jsxs("div",{className:"grid2",children:[e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${h}-aspect`,children:"Aspect ratio"}),e.jsx("select",{id:`${h}-aspect`,"data-testid":"aspect-input",value:u,onChange:p=>A(p.target.value),children:it.map(p=>e.jsx("option",{value:p.value,disabled:R!==void 0&&R.aspectRatio!==p.value,children:p.label},p.value))})]}),e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${h}-scenes`,children:"Scenes"}),e.jsx("input",{id:`${h}-scenes`,"data-testid":"scene-count-input",type:"number",min:1,max:12,value:k,onChange:p=>o(Number(p.target.value))})]}),e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${h}-duration`,children:"Duration (s)"}),e.jsx("input",{id:`${h}-duration`,"data-testid":"duration-input",type:"number",min:M.min,max:M.max,step:1,value:v,onChange:p=>F(Number(p.target.value))})]}),e.jsxs("div",{children:[e.jsx("label",{htmlFor:`${h}-style`,children:"Style"}),e.jsx("input",{id:`${h}-style`,"data-testid":"style-input",value:I,onChange:p=>f(p.target.value),placeholder:"warm, cinematic"})]})]}),e.jsxs("fieldset",{className:"group",children:[e.jsx("legend",{children:"Brand"}),e.jsx("label",{htmlFor:`${h}-kit`,children:"Brand kit"}),e.jsxs("select",{id:`${h}-kit`,"data-testid":"brand-kit-select",value:j,onChange:p=>E(p.target.value),children:[e.jsx("option",{value:"",children:"No brand kit"}),l.map(p=>e.jsx("option",{value:p.id,children:p.name},p.id))]}),e.jsx("label",{htmlFor:`${h}-cta`,children:"Call to action"}),e.jsx("input",{id:`${h}-cta`,"data-testid":"cta-input",maxLength:60,value:D,disabled:P,"aria-describedby":`${h}-cta-hint`,onChange:p=>$(p.target.value),placeholder:H?.callToAction??"Order today"}),e.jsxs("p",{id:`${h}-cta-hint`,className:"muted",children:["The end card's line, over the brand kit's",H?.callToAction?` (“${H.callToAction}”)`:"","; empty: the kit's."]}),e.jsxs("label",{className:"check",children:[e.jsx("input",{type:"checkbox","data-testid":"no-end-card",checked:P,onChange:p=>C(p.target.checked)})," No end card"]}),e.jsxs("label",{className:"check",children:[e.jsx("input",{type:"checkbox","data-testid":"headlines-input",checked:ee,onChange:p=>fe(p.target.checked)})," Write a headline for each scene"]})]}),e.jsx(nt,{client:t,enabled:s,value:T,onChange:L,tracks:be}),e.jsx(Y,{uploads:i,onFile:n,disabled:a}),_.length?e.jsxs("label",{className:"check",children:[e.jsx("input",{type:"checkbox",checked:g,onChange:p=>N(p.target.checked)})," Use my"," ",_.length," upload",_.length>1?"s":""," for the first scenes"]}):null,e.jsx("button",{type:"submit","data-testid":"create-job",disabled:a||x.trim().length<3,children:"Create storyboard"})]})}function dt({error:t,onDismiss:s}){return t?e.jsxs("div",{className:"card error",role:"alert","data-testid":"error","data-code":t.code,children:[e.jsx("strong",{children:t.code}),": ",t.message,e.jsx("button",{type:"button",className:"link",onClick:s,"aria-label":"Dismiss the error",children:"Dismiss"})]}):null}const ct=[{testid:"export-gif",label:"GIF (480p)",targets:[{aspectRatio:"SQUARE_1_1",resolution:"R480P",container:"GIF"}]},{testid:"export-stories",label:"9:16 stories (MP4)",targets:[{aspectRatio:"PORTRAIT_9_16",container:"MP4"}]},{testid:"export-square",label:"1:1 feed (MP4)",targets:[{aspectRatio:"SQUARE_1_1",container:"MP4"}]},{testid:"export-webm",label:"16:9 WebM",targets:[{aspectRatio:"LANDSCAPE_16_9",container:"WEBM"}]}];function ut(t){const s=[[1e9,"GB"],[1e6,"MB"],[1e3,"kB"]];for(const[a,i]of s)if(t>=a)return`${Number((t/a).toFixed(1))} ${i}`;return`${t} B`}function le(t,s){return t.endsWith("_bytes")?ut(s):t.endsWith("_kbps")?`${Math.round(s)} kbps`:t.endsWith("_seconds")?`${Number(s.toFixed(2))} s`:t.endsWith("_fps")?`${Number(s.toFixed(2))} fps`:`${Math.round(s)} px`}function pt(t){const s=t.rule==="max_fps"?"<":t.rule.startsWith("max_")?"≤":"≥";return`${t.rule}: ${le(t.rule,t.actual)} ${s} ${le(t.rule,t.limit)}`}function mt({exports:t,platforms:s,videoSeconds:a,busy:i,onExport:c}){const l=d.useId(),r=n=>s.find(m=>m.platform===n)?.label??n;return e.jsxs("div",{className:"card",children:[e.jsx("h2",{children:"Exports"}),e.jsx("div",{className:"actions",children:ct.map(n=>e.jsx("button",{type:"button","data-testid":n.testid,disabled:i,onClick:()=>c(n.targets),children:n.label},n.testid))}),s.length?e.jsxs(e.Fragment,{children:[e.jsx("h3",{id:`${l}-platforms`,children:"For a platform"}),e.jsx("p",{className:"muted",id:`${l}-platforms-hint`,children:"In the platform's ratio, checked against its rules on the file made."}),e.jsx("div",{className:"actions",role:"group","aria-labelledby":`${l}-platforms`,"aria-describedby":`${l}-platforms-hint`,children:s.map(n=>{const{min:m,max:h}=W(n),x=a==null||a>=m-.05&&a<=h+.05;return e.jsxs("button",{type:"button",className:"secondary","data-testid":`export-platform-${n.platform}`,disabled:i||!x,title:x?me(n):`The video is ${a?.toFixed(1)} s; ${n.label} takes ${m}–${h} s`,onClick:()=>c([{platform:n.platform,container:"MP4"}]),children:[n.label," ",e.jsxs("span",{className:"muted",children:["(",U[n.aspectRatio],")"]})]},n.platform)})})]}):null,t.length?e.jsx("ul",{className:"exports","aria-live":"polite",children:t.map(n=>e.jsxs("li",{"data-testid":"export-row","data-status":n.status,"data-container":n.container,"data-platform":n.platform??"",children:[e.jsxs("span",{children:[n.platform?e.jsxs("strong",{children:[r(n.platform)," · "]}):null,n.container," · ",U[n.aspectRatio]," · ",n.resolution.slice(1)," · ",n.fit.toLowerCase()]}),n.status==="COMPLETED"&&n.asset?e.jsxs("a",{href:n.asset.url,download:`reelforge-${n.id.slice(0,8)}.${n.container.toLowerCase()}`,"data-testid":`download-${n.container.toLowerCase()}`,children:["Download (",Q(n.asset.sizeBytes),")"]}):n.status==="FAILED"?e.jsxs("span",{className:"warn",children:["failed: ",n.error]}):e.jsxs("span",{className:"muted",children:[n.status.toLowerCase()," ",n.progress,"%"]}),n.platformChecks?.length?e.jsx("ul",{className:"checks","data-testid":"platform-checks","aria-label":`${r(n.platform)??"Platform"} checks`,children:n.platformChecks.map(m=>e.jsxs("li",{"data-testid":"platform-check","data-rule":m.rule,"data-passed":String(m.passed),"data-limit":m.limit,"data-actual":m.actual,className:m.passed?"ok":"warn",children:[e.jsxs("span",{"aria-hidden":"true",children:[m.passed?"✓":"✗"," "]}),e.jsx("span",{className:"visually-hidden",children:m.passed?"passed: ":"failed: "}),pt(m)]},m.rule))}):null]},n.id))}):e.jsx("p",{className:"muted",children:"Other sizes and formats of the finished video."})]})}const ht=10;function ft({client:t,version:s,currentId:a,onOpen:i}){const[c,l]=d.useState([]),[r,n]=d.useState(null),[m,h]=d.useState(!1),[x,y]=d.useState(0),[u,A]=d.useState(null),k=d.useCallback(async o=>{try{return await t.jobs({first:ht,after:o})}catch(v){return A(O(v)),null}},[t]);return d.useEffect(()=>{let o=!0;return k(null).then(v=>{!o||!v||(A(null),l(v.edges.map(F=>F.node)),n(v.pageInfo.endCursor??null),h(v.pageInfo.hasNextPage),y(v.totalCount))}),()=>{o=!1}},[k,s]),e.jsxs("nav",{className:"card","aria-label":"Past jobs",children:[e.jsxs("h2",{children:["Past jobs ",e.jsxs("span",{className:"muted",children:["(",x,")"]})]}),u?e.jsxs("p",{className:"warn","data-testid":"error",children:[u.code,": ",u.message]}):null,e.jsx("ul",{className:"jobs","data-testid":"job-list",children:c.map(o=>e.jsx("li",{children:e.jsxs("button",{type:"button",className:`link${o.id===a?" current":""}`,"aria-current":o.id===a?"true":void 0,onClick:()=>i(o.id),children:[o.thumbnail?e.jsx("img",{src:o.thumbnail.url,alt:"",width:48,height:27}):null,e.jsx("span",{className:"job-brief",children:o.brief}),e.jsx("span",{className:"muted",children:o.status.toLowerCase()})]})},o.id))}),m?e.jsx("button",{type:"button",className:"secondary","data-testid":"jobs-more",onClick:()=>{k(r).then(o=>{o&&(l(v=>[...v,...o.edges.map(F=>F.node)]),n(o.pageInfo.endCursor??null),h(o.pageInfo.hasNextPage))})},children:"Load more"}):null]})}function gt({scenes:t,editable:s,busy:a,onRefine:i}){if(!t.length)return null;const c=t.reduce((l,r)=>l+r.duration,0);return e.jsxs("div",{className:"card",children:[e.jsxs("h2",{children:["Storyboard ",e.jsxs("span",{className:"muted",children:["(",t.length," scenes, ",c.toFixed(1)," s)"]})]}),e.jsx("ol",{className:"scenes",children:t.map(l=>e.jsx(bt,{scene:l,editable:s,busy:a,onRefine:i},l.index))})]})}function bt({scene:t,editable:s,busy:a,onRefine:i}){const c=d.useId(),[l,r]=d.useState(!1),[n,m]=d.useState(t.imagePrompt),[h,x]=d.useState(t.narration),y={...n.trim()&&n.trim()!==t.imagePrompt?{imagePrompt:n.trim()}:{},...h.trim()!==t.narration?{narration:h.trim()}:{}},u=Object.keys(y).length>0;return e.jsxs("li",{className:"scene","data-testid":"scene-card","data-status":t.status,"data-duration":t.duration,"aria-label":`Scene ${t.index+1}`,children:[t.image?e.jsx("img",{src:t.image.url,alt:`Still of scene ${t.index+1}: ${t.description}`,width:t.image.width??void 0,height:t.image.height??void 0}):e.jsx("div",{className:"placeholder","aria-hidden":"true"}),e.jsxs("div",{className:"scene-body",children:[e.jsxs("p",{className:"scene-title",children:[e.jsxs("strong",{children:["Scene ",t.index+1]})," · ",t.duration.toFixed(1)," s ·"," ",e.jsx("span",{className:`status s-${t.status}`,children:t.status.replace(/_/g," ")})]}),t.headline?e.jsxs("p",{className:"headline","data-testid":"scene-headline",children:[e.jsx("span",{className:"visually-hidden",children:"Headline: "}),t.headline]}):null,e.jsx("p",{children:t.description}),e.jsxs("p",{className:"narration","data-testid":"scene-narration",children:[e.jsx("span",{className:"visually-hidden",children:"Narration: "}),t.narration?e.jsx("q",{children:t.narration}):e.jsx("span",{className:"muted",children:"No narration (silent)"})]}),s?l?e.jsxs("form",{onSubmit:A=>{A.preventDefault(),u&&(i(t.index,y),r(!1))},children:[e.jsx("label",{htmlFor:`${c}-prompt`,children:"Image prompt"}),e.jsx("textarea",{id:`${c}-prompt`,"data-testid":"refine-prompt",rows:3,value:n,onChange:A=>m(A.target.value)}),e.jsx("label",{htmlFor:`${c}-narration`,children:"Narration"}),e.jsx("textarea",{id:`${c}-narration`,"data-testid":"refine-narration",rows:2,maxLength:500,value:h,"aria-describedby":`${c}-narration-hint`,onChange:A=>x(A.target.value)}),e.jsx("p",{id:`${c}-narration-hint`,className:"muted",children:"The line spoken and captioned over this scene; empty for silence. A new line re-records only this scene's voice-over."}),e.jsxs("div",{className:"actions",children:[e.jsx("button",{type:"submit","data-testid":"refine-submit",disabled:a||!u,children:y.imagePrompt!==void 0?"Regenerate still":"Update narration"}),e.jsx("button",{type:"button",className:"secondary",onClick:()=>r(!1),children:"Cancel"})]})]}):e.jsx("button",{type:"button",className:"secondary","data-testid":"refine",onClick:()=>{m(t.imagePrompt),x(t.narration),r(!0)},disabled:a,children:"Refine scene"}):null]})]})}function xt({token:t,onSave:s}){const[a,i]=d.useState(t),c=d.useId();return e.jsxs("form",{className:"card",onSubmit:l=>{l.preventDefault(),s(a.trim().replace(/^Bearer\s+/i,""))},children:[e.jsx("h2",{children:"API token"}),e.jsx("label",{htmlFor:c,children:"Bearer token (JWT)"}),e.jsx("input",{id:c,"data-testid":"token-input",type:"password",autoComplete:"off",spellCheck:!1,value:a,onChange:l=>i(l.target.value),placeholder:"eyJhbGciOi…","aria-describedby":`${c}-hint`}),e.jsxs("p",{id:`${c}-hint`,className:"muted",children:["In development, ",e.jsx("code",{children:"reelforge serve"})," prints a ready token when it starts (the",e.jsx("code",{children:" Token:"})," line); ",e.jsx("code",{children:"reelforge token --client … --user …"})," mints another. It is kept for this tab only."]}),e.jsx("button",{type:"submit","data-testid":"token-save",children:t?"Use this token":"Save token"}),t?e.jsx("span",{className:"ok",children:" Token set."}):null]})}const X="reelforge.token";function vt(){try{return window.sessionStorage.getItem(X)??""}catch{return""}}function jt(t){try{t?window.sessionStorage.setItem(X,t):window.sessionStorage.removeItem(X)}catch{}}function At(){const[t,s]=d.useState(vt),[a,i]=d.useState("idle"),c=d.useRef(t);c.current=t;const l=d.useMemo(()=>new Ke({url:"/graphql",token:()=>c.current,onSocketState:i}),[t]),r=ze({client:l}),[n,m]=d.useState(0),{platforms:h}=Ze(l,!!t),{kits:x,reload:y}=Xe(l,!!t),[u,A]=d.useState(null),k=g=>{jt(g),s(g),r.reset()},o=r.job,v=o?.status==="STORYBOARD_COMPLETE"&&!o.approved,F=o?.status==="STORYBOARD_COMPLETE"&&o.approved,I=h.find(g=>g.platform===o?.platform)?.label??o?.platform??null,f=o!==null&&!["COMPLETED","FAILED","CANCELED","STORYBOARD_COMPLETE"].includes(o.status);return e.jsxs("div",{className:"app",children:[e.jsxs("header",{className:"top",children:[e.jsx("h1",{children:"Reelforge Studio"}),e.jsx("span",{className:"socket","aria-live":"polite",children:r.live==="polling"?"live updates: polling":a==="reconnecting"?"reconnecting…":null})]}),e.jsxs("main",{className:"layout",children:[e.jsxs("section",{className:"column","aria-label":"Set-up",children:[e.jsx(xt,{token:t,onSave:k}),e.jsx(lt,{client:l,connected:!!t,disabled:!t||r.busy,uploads:r.uploads,platforms:h,kits:x,preferredKitId:u,onUpload:g=>{r.upload(g)},onCreate:async g=>{await r.create(g)&&m(T=>T+1)}}),t?e.jsx(He,{client:l,kits:x,disabled:r.busy,onSave:async g=>{const N=await r.saveBrandKit(g);return N&&(A(N.id),y()),N},onDelete:async g=>{await r.deleteBrandKit(g)!==null&&(u===g&&A(null),y())}}):null,t?e.jsx(ft,{client:l,version:`${n}:${o?.id??""}:${o?.status??""}`,currentId:o?.id??null,onOpen:g=>{r.load(g)}}):null]}),e.jsxs("section",{className:"column wide","aria-label":"Job",children:[e.jsx(dt,{error:r.error,onDismiss:r.clearError}),o?e.jsxs(e.Fragment,{children:[e.jsxs("div",{className:"card job-head","data-testid":"job-head","data-job-id":o.id,children:[e.jsxs("h2",{children:["Job ",e.jsx("code",{children:o.id.slice(0,8)})," — ",o.status.toLowerCase().replace("_"," ")]}),e.jsx("p",{className:"brief",children:o.brief}),e.jsx("div",{className:"bar",role:"progressbar","data-testid":"progress","aria-label":"Job progress","aria-valuemin":0,"aria-valuemax":100,"aria-valuenow":r.progress,"aria-valuetext":`${r.progress}% ${r.stage??""}`.trim(),children:e.jsx("div",{className:"fill",style:{width:`${r.progress}%`}})}),e.jsxs("p",{className:"muted",children:[r.stage?`Stage: ${r.stage} · `:"",r.progress,"%"]}),e.jsxs("dl",{className:"cost",children:[e.jsxs("div",{children:[e.jsx("dt",{children:"Estimated cost"}),e.jsx("dd",{"data-testid":"cost-estimated",children:re(r.cost.estimated)})]}),e.jsxs("div",{children:[e.jsx("dt",{children:"Paid so far"}),e.jsx("dd",{"data-testid":"cost-actual",children:re(r.cost.actual)})]})]}),e.jsxs("dl",{className:"settings","aria-label":"Platform, brand, voice-over, captions and music",children:[e.jsxs("div",{children:[e.jsx("dt",{children:"Voice"}),e.jsxs("dd",{"data-testid":"job-voice","data-voice":o.voice??"",children:[o.voice??"no voice-over"," · ",o.language]})]}),e.jsxs("div",{children:[e.jsx("dt",{children:"Platform"}),e.jsxs("dd",{"data-testid":"job-platform","data-platform":o.platform??"",children:[I??"any"," · ",U[o.aspectRatio]," · ",o.targetDuration," s"]})]}),e.jsxs("div",{children:[e.jsx("dt",{children:"Brand kit"}),e.jsx("dd",{"data-testid":"job-brand-kit","data-kit-id":o.brandKitId??"",children:o.brandKitId?x.find(g=>g.id===o.brandKitId)?.name??"a deleted kit":"none"})]}),e.jsxs("div",{children:[e.jsx("dt",{children:"End card"}),e.jsx("dd",{"data-testid":"job-cta",children:o.callToAction?`“${o.callToAction}”`:"none"})]}),e.jsxs("div",{children:[e.jsx("dt",{children:"Captions"}),e.jsx("dd",{"data-testid":"job-captions",children:o.captions.toLowerCase()})]}),e.jsxs("div",{children:[e.jsx("dt",{children:"Music"}),e.jsx("dd",{"data-testid":"job-music",children:o.musicAssetId?"your track":o.music.toLowerCase()})]})]}),e.jsxs("div",{className:"actions",children:[e.jsx("button",{type:"button","data-testid":"approve",disabled:!v||r.busy,onClick:()=>{r.approve()},children:o.approved?"Approved":"Approve storyboard"}),e.jsx("button",{type:"button","data-testid":"render",disabled:!F||r.busy,onClick:()=>{r.render()},children:"Render video"}),e.jsx("button",{type:"button","data-testid":"cancel",disabled:!f||r.busy,onClick:()=>{r.cancel()},children:"Cancel"}),o.status==="FAILED"?e.jsx("button",{type:"button","data-testid":"retry",disabled:r.busy,onClick:()=>{r.retry()},children:"Retry"}):null]}),o.errorMessage?e.jsx("p",{className:"warn",children:o.errorMessage}):null]}),e.jsx(gt,{scenes:r.scenes,editable:o.status==="STORYBOARD_COMPLETE"||o.status==="COMPLETED"||o.status==="FAILED",busy:r.busy,onRefine:(g,N)=>{r.refineScene(g,N)}}),o.video?e.jsxs("div",{className:"card",children:[e.jsx("h2",{children:"Video"}),e.jsx("video",{"data-testid":"result-video",controls:!0,preload:"auto",src:o.video.url,poster:o.thumbnail?.url,"aria-label":"The rendered ad"}),e.jsxs("p",{className:"files",children:[e.jsx("a",{href:o.video.url,download:!0,children:"Download MP4"}),o.captionsSrt?e.jsx("a",{href:o.captionsSrt.url,download:`reelforge-${o.id.slice(0,8)}.srt`,"data-testid":"captions-srt",children:"Captions (.srt)"}):null,o.captionsVtt?e.jsx("a",{href:o.captionsVtt.url,download:`reelforge-${o.id.slice(0,8)}.vtt`,"data-testid":"captions-vtt",children:"Captions (.vtt)"}):null]}),o.video.loudnessLufs!=null?e.jsx("p",{className:"muted","data-testid":"loudness","data-lufs":o.video.loudnessLufs,"data-true-peak":o.video.truePeakDb??"",children:qe(o.video.loudnessLufs,o.video.truePeakDb)}):null]}):null,o.status==="COMPLETED"?e.jsx(mt,{exports:r.exports,platforms:h,videoSeconds:o.video?.durationSeconds??null,busy:r.busy,onExport:g=>{r.exportVideo(g)}}):null]}):e.jsxs("div",{className:"card empty",children:[e.jsx("h2",{children:"No job open"}),e.jsx("p",{children:"Write a brief and create a job, or open one of your past jobs."})]})]})]})]})}const de=document.getElementById("root");de&&je.createRoot(de).render(e.jsx(d.StrictMode,{children:e.jsx(At,{})}));
